// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs interface, under /sys/kernel/debug/bootprof/:
 *   events   header line, then one tab-separated line per event (format in README.md)
 *   files    paths in first-access order, each once (a drop-in bootlog.list)
 *   stats    "key value" lines
 *   control  write start, stop or clear
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/jhash.h>
#include <linux/kdev_t.h>
#include <linux/kernel.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include "bootprof.h"

#define EVENTS_HEADER "#bootprof-events v1\tseq\ttime_ns\tevent\tpid\tcomm\tdev\tino\toffset\tlength\tpath\n"

const char *const bp_kind_names[BP_NR_KINDS] = {
	[BP_OPEN] = "open",
	[BP_EXEC] = "exec",
	[BP_READ] = "read",
	[BP_FAULT] = "fault",
	[BP_SQREAD] = "sqread",
};

static struct dentry *bp_dir;

/* Backslash, tab and newline are escaped so that a line is always one event. */
static void put_escaped(struct seq_file *m, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && s[i]; i++) {
		switch (s[i]) {
		case '\\':
			seq_puts(m, "\\\\");
			break;
		case '\t':
			seq_puts(m, "\\t");
			break;
		case '\n':
			seq_puts(m, "\\n");
			break;
		default:
			seq_putc(m, s[i]);
		}
	}
}

/* ---- events: a seq_file iterator over the ring ---------------------------------------- */

/*
 * *pos is 0 for the header line, else 1 + the byte offset of the next record, so a read()
 * can resume where the last one stopped. A clear in between ends the file (generation check).
 */
struct events_iter {
	size_t limit;
	u64 generation;
	u64 open_generation;
	bool started;
};

static void *events_start(struct seq_file *m, loff_t *pos)
{
	struct events_iter *it = m->private;

	it->limit = bp_ring_read_begin(&it->generation);
	if (!it->started) {
		it->open_generation = it->generation;
		it->started = true;
	}
	if (it->generation != it->open_generation)
		return NULL;
	if (*pos == 0)
		return SEQ_START_TOKEN;
	return (void *)bp_ring_record_at(*pos - 1, it->limit);
}

static void *events_next(struct seq_file *m, void *v, loff_t *pos)
{
	struct events_iter *it = m->private;
	size_t offset;

	if (v == SEQ_START_TOKEN)
		offset = 0;
	else
		offset = *pos - 1 + ((const struct bp_record *)v)->size;
	*pos = offset + 1;
	return (void *)bp_ring_record_at(offset, it->limit);
}

static void events_stop(struct seq_file *m, void *v)
{
	bp_ring_read_end();
}

static int events_show(struct seq_file *m, void *v)
{
	const struct bp_record *rec = v;
	const struct bp_event *ev;

	if (v == SEQ_START_TOKEN) {
		seq_puts(m, EVENTS_HEADER);
		return 0;
	}
	ev = &rec->ev;
	seq_printf(m, "%llu\t%llu\t%s\t%u\t", rec->seq, ev->time_ns,
		   ev->kind < BP_NR_KINDS ? bp_kind_names[ev->kind] : "?", ev->pid);
	put_escaped(m, ev->comm, sizeof(ev->comm));
	if (ev->flags & BP_HAS_DEV)
		seq_printf(m, "\t%u:%u", MAJOR(ev->dev), MINOR(ev->dev));
	else
		seq_puts(m, "\t-");
	if (ev->flags & BP_HAS_INO)
		seq_printf(m, "\t%llu", ev->ino);
	else
		seq_puts(m, "\t-");
	if (ev->flags & BP_HAS_RANGE)
		seq_printf(m, "\t%llu\t%llu\t", ev->offset, ev->length);
	else
		seq_puts(m, "\t-\t-\t");
	if (rec->path_len)
		put_escaped(m, rec->path, rec->path_len);
	else
		seq_putc(m, '-');
	seq_putc(m, '\n');
	return 0;
}

static const struct seq_operations events_sops = {
	.start = events_start,
	.next = events_next,
	.stop = events_stop,
	.show = events_show,
};

static int events_open(struct inode *inode, struct file *file)
{
	return seq_open_private(file, &events_sops, sizeof(struct events_iter));
}

static const struct file_operations events_fops = {
	.owner = THIS_MODULE,
	.open = events_open,
	.read = seq_read,
	.llseek = seq_lseek,
	.release = seq_release_private,
};

/* ---- files: first access of each path, deduplicated at read time ---------------------- */

static bool names_a_file(const struct bp_record *rec)
{
	return rec->path_len && rec->ev.kind != BP_SQREAD;
}

static int files_show(struct seq_file *m, void *v)
{
	const struct bp_record *rec, *other;
	size_t limit, offset, slots, mask, i;
	u32 *table;
	u64 gen;
	int ret = 0;

	limit = bp_ring_read_begin(&gen);
	/* Open addressing over record offsets (+1; 0 is empty), at most half full. */
	slots = roundup_pow_of_two(max_t(size_t, 2 * (limit / sizeof(*rec) + 1), 64));
	mask = slots - 1;
	table = kvcalloc(slots, sizeof(*table), GFP_KERNEL);
	if (!table) {
		ret = -ENOMEM;
		goto out_end;
	}
	for (offset = 0; (rec = bp_ring_record_at(offset, limit)); offset += rec->size) {
		if (!names_a_file(rec))
			continue;
		i = jhash(rec->path, rec->path_len, 0) & mask;
		for (; table[i]; i = (i + 1) & mask) {
			other = bp_ring_record_at(table[i] - 1, limit);
			if (other->path_len == rec->path_len &&
			    !memcmp(other->path, rec->path, rec->path_len))
				break;
		}
		if (table[i])
			continue;
		table[i] = offset + 1;
		put_escaped(m, rec->path, rec->path_len);
		seq_putc(m, '\n');
		if (seq_has_overflowed(m))
			break;	/* seq_file retries with a bigger buffer */
	}
	kvfree(table);
out_end:
	bp_ring_read_end();
	return ret;
}
DEFINE_SHOW_ATTRIBUTE(files);

/* ---- stats ------------------------------------------------------------------------------ */

static int stats_show(struct seq_file *m, void *v)
{
	unsigned long per_kind[BP_NR_KINDS];
	unsigned long missed = bp_probes_missed(per_kind);
	struct bp_stats s;

	bp_ring_stats(&s);
	seq_printf(m, "produced %llu\nlogged %llu\ndropped %llu\n", s.produced, s.logged, s.dropped);
	seq_printf(m, "bytes_used %llu\nbytes_max %llu\nrunning %d\nfull %d\n", s.bytes_used,
		   s.bytes_max, s.running ? 1 : 0, s.full ? 1 : 0);
	seq_printf(m, "missed %lu\nmissed_open %lu\nmissed_read %lu\nmissed_sqread %lu\n", missed,
		   per_kind[BP_OPEN], per_kind[BP_READ], per_kind[BP_SQREAD]);
	seq_printf(m, "fs_types %s\n", bp_fs_types);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

/* ---- control ---------------------------------------------------------------------------- */

static ssize_t control_write(struct file *file, const char __user *ubuf, size_t count, loff_t *ppos)
{
	char buf[16];
	char *cmd;

	if (count >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, count))
		return -EFAULT;
	buf[count] = '\0';
	cmd = strim(buf);
	if (!strcmp(cmd, "start"))
		bp_ring_set_running(true);
	else if (!strcmp(cmd, "stop"))
		bp_ring_set_running(false);
	else if (!strcmp(cmd, "clear"))
		bp_ring_clear();
	else
		return -EINVAL;
	return count;
}

static const struct file_operations control_fops = {
	.owner = THIS_MODULE,
	.write = control_write,
	.llseek = noop_llseek,
};

/* Root only: the log names every file the system touched (debugfs's own 0700 root is not enough). */
static const struct {
	const char *name;
	umode_t mode;
	const struct file_operations *fops;
} bp_files[] = {
	{ "events", 0400, &events_fops },
	{ "files", 0400, &files_fops },
	{ "stats", 0400, &stats_fops },
	{ "control", 0200, &control_fops },
};

/* fail_for_test: the last file fails after a pause, so the VM test's reader holds an earlier one open */
int bp_debugfs_create(bool fail_for_test)
{
	struct dentry *d;
	unsigned int i;

	bp_dir = debugfs_create_dir("bootprof", NULL);
	if (IS_ERR(bp_dir)) {
		pr_err("cannot create the debugfs directory (is debugfs enabled?)\n");
		return PTR_ERR(bp_dir);
	}
	for (i = 0; i < ARRAY_SIZE(bp_files); i++) {
		if (fail_for_test && i == ARRAY_SIZE(bp_files) - 1) {
			msleep(3000);
			d = ERR_PTR(-ENOMEM);
		} else {
			d = debugfs_create_file(bp_files[i].name, bp_files[i].mode, bp_dir, NULL, bp_files[i].fops);
		}
		if (IS_ERR(d)) {
			pr_err("cannot create debugfs file %s: %ld\n", bp_files[i].name, PTR_ERR(d));
			bp_debugfs_remove();
			/*
			 * A reader may have opened an earlier file: it holds a module reference, and
			 * its close must run before a failed init frees our code. Removal made its
			 * reads fail, so it closes soon. (The loader holds one reference during init.)
			 */
			while (module_refcount(THIS_MODULE) > 1)
				msleep(20);
			return PTR_ERR(d);
		}
	}
	return 0;
}

void bp_debugfs_remove(void)
{
	debugfs_remove_recursive(bp_dir);
	bp_dir = NULL;
}
