// SPDX-License-Identifier: GPL-2.0
/*
 * Where events come from (README.md explains the choice):
 *   open   kretprobe on do_filp_open: every open(2)/openat(2)/execve path walk ends there
 *   exec   tracepoint sched_process_exec: the binary that really ran
 *   read   kprobe on vfs_read: read(2)/pread64(2) on regular files, with offset and length
 *   fault  tracepoint mm_filemap_add_to_page_cache: page-cache fills, including mmap faults and
 *          readahead of executables and libraries that never call read(2)
 *   sqread kprobe on squashfs_read_data (squashfs.ko): every compressed block squashfs reads,
 *          attached when squashfs loads if it is not loaded yet
 *
 * Every handler runs with preemption off: it formats the path into a per-CPU scratch buffer with
 * interrupts off, copies into the ring under a spinlock, and never sleeps or allocates.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/binfmts.h>
#include <linux/dcache.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kprobes.h>
#include <linux/limits.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include "bootprof.h"

/* squashfs_read_data() gets data block lengths with this flag set when the block is stored raw. */
#define SQUASHFS_COMPRESSED_BIT_BLOCK	(1 << 24)

#define BP_MAX_FS_TYPES	8

char bp_fs_types[128] = "overlay,squashfs";

static char fs_type_names[BP_MAX_FS_TYPES][32];
static unsigned int nr_fs_types;
static bool all_fs_types;

struct bp_scratch {
	bool busy;
	char buf[PATH_MAX];
};

static struct bp_scratch __percpu *scratch;

/* ---- filtering ------------------------------------------------------------------------ */

static void parse_fs_types(void)
{
	const char *p = bp_fs_types;

	nr_fs_types = 0;
	all_fs_types = false;
	while (*p && nr_fs_types < BP_MAX_FS_TYPES) {
		size_t len = strcspn(p, ", \n");

		if (len == 1 && *p == '*')
			all_fs_types = true;
		else if (len > 0 && len < sizeof(fs_type_names[0]))
			strscpy(fs_type_names[nr_fs_types++], p, len + 1);
		p += len;
		while (*p == ',' || *p == ' ' || *p == '\n')
			p++;
	}
}

bool bp_fs_wanted(const struct inode *inode)
{
	const char *name;
	unsigned int i;

	if (!inode || !inode->i_sb || !inode->i_sb->s_type)
		return false;
	name = inode->i_sb->s_type->name;
	/* Never log our own output or other pseudo files, even with fs_types=*. */
	if (!strcmp(name, "debugfs") || !strcmp(name, "tracefs") || !strcmp(name, "proc") ||
	    !strcmp(name, "sysfs"))
		return false;
	if (all_fs_types)
		return true;
	for (i = 0; i < nr_fs_types; i++)
		if (!strcmp(name, fs_type_names[i]))
			return true;
	return false;
}

/* ---- emitting ------------------------------------------------------------------------- */

static void fill_common(struct bp_event *ev, u8 kind)
{
	ev->time_ns = ktime_get_ns();
	ev->pid = current->tgid;
	ev->kind = kind;
	/* A racy copy is fine here; get_task_comm() would take task_lock in probe context. */
	memcpy(ev->comm, current->comm, sizeof(ev->comm));
	ev->comm[sizeof(ev->comm) - 1] = '\0';
}

/* Log an event about an open file; dev and ino are those of the real (lower) inode under overlay. */
static void emit_file(u8 kind, struct file *file, u64 offset, u64 length, u8 flags)
{
	struct bp_scratch *sc;
	struct bp_event ev = {};
	struct inode *real;
	unsigned long irqflags;
	const char *path;
	size_t path_len = 0;

	if (!bp_fs_wanted(file_inode(file)))
		return;
	fill_common(&ev, kind);
	ev.flags = flags;
	ev.offset = offset;
	ev.length = length;
	real = d_real_inode(file->f_path.dentry);
	if (real && real->i_sb) {
		ev.dev = real->i_sb->s_dev;
		ev.ino = real->i_ino;
		ev.flags |= BP_HAS_DEV | BP_HAS_INO;
	}

	local_irq_save(irqflags);
	sc = this_cpu_ptr(scratch);
	if (sc->busy) {
		/* Only reachable if a probe fires inside our own handler: log without a path. */
		bp_ring_log(&ev, NULL, 0);
		goto out_restore;
	}
	sc->busy = true;
	path = d_path(&file->f_path, sc->buf, sizeof(sc->buf));
	if (!IS_ERR(path))
		path_len = sc->buf + sizeof(sc->buf) - 1 - path;
	else
		path = NULL;
	bp_ring_log(&ev, path, path_len);
	sc->busy = false;
out_restore:
	local_irq_restore(irqflags);
}

/* ---- open: kretprobe on do_filp_open -------------------------------------------------- */

static int open_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct file *file = (struct file *)regs_return_value(regs);

	if (!IS_ERR_OR_NULL(file))
		emit_file(BP_OPEN, file, 0, 0, 0);
	return 0;
}
NOKPROBE_SYMBOL(open_ret);

static struct kretprobe open_krp = {
	.kp.symbol_name = "do_filp_open",
	.handler = open_ret,
	.maxactive = 64,
};

/* ---- read: kprobe on vfs_read(file, buf, count, pos) ---------------------------------- */

static int read_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct file *file = (struct file *)regs_get_kernel_argument(regs, 0);
	size_t count = regs_get_kernel_argument(regs, 2);
	loff_t *pos = (loff_t *)regs_get_kernel_argument(regs, 3);

	if (!file || !S_ISREG(file_inode(file)->i_mode))
		return 0;
	/* pos is NULL only for stream files; regular files always pass one. */
	emit_file(BP_READ, file, pos ? *pos : 0, count, BP_HAS_RANGE);
	return 0;
}
NOKPROBE_SYMBOL(read_pre);

static struct kprobe read_kp = {
	.symbol_name = "vfs_read",
	.pre_handler = read_pre,
};

/* ---- exec: tracepoint sched_process_exec ---------------------------------------------- */

static void exec_probe(void *data, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	if (bprm && bprm->file)
		emit_file(BP_EXEC, bprm->file, 0, 0, 0);
}

/* ---- fault: tracepoint mm_filemap_add_to_page_cache ----------------------------------- */

static void fault_probe(void *data, struct folio *folio)
{
	struct address_space *mapping = folio->mapping;
	struct bp_event ev = {};
	struct inode *inode;

	if (!mapping)
		return;
	inode = mapping->host;
	if (!bp_fs_wanted(inode))
		return;
	fill_common(&ev, BP_FAULT);
	ev.dev = inode->i_sb->s_dev;
	ev.ino = inode->i_ino;
	ev.offset = (u64)folio->index << PAGE_SHIFT;
	ev.length = PAGE_SIZE << folio_order(folio);
	ev.flags = BP_HAS_DEV | BP_HAS_INO | BP_HAS_RANGE;
	bp_ring_log(&ev, NULL, 0);
}

/* ---- sqread: kprobe on squashfs_read_data(sb, index, length, next_index, output) ------ */

static int sqread_pre(struct kprobe *kp, struct pt_regs *regs)
{
	struct super_block *sb = (struct super_block *)regs_get_kernel_argument(regs, 0);
	u64 index = regs_get_kernel_argument(regs, 1);
	u32 length = (u32)regs_get_kernel_argument(regs, 2);
	struct bp_event ev = {};

	fill_common(&ev, BP_SQREAD);
	if (sb) {
		ev.dev = sb->s_dev;
		ev.flags |= BP_HAS_DEV;
	}
	ev.offset = index;
	/* 0 means a metadata block, whose length squashfs learns from its 2-byte header. */
	ev.length = length & ~SQUASHFS_COMPRESSED_BIT_BLOCK;
	ev.flags |= BP_HAS_RANGE;
	bp_ring_log(&ev, NULL, 0);
	return 0;
}
NOKPROBE_SYMBOL(sqread_pre);

static struct kprobe sqread_kp;
static DEFINE_MUTEX(sqread_mutex);	/* process context only: module notifier and exit */
static bool sqread_wanted;
static bool sqread_registered;
static unsigned long sqread_missed_before;

static void sqread_attach(void)
{
	int ret;

	mutex_lock(&sqread_mutex);
	if (sqread_wanted && !sqread_registered) {
		/* A kprobe can only be registered again once its resolved address is cleared. */
		memset(&sqread_kp, 0, sizeof(sqread_kp));
		sqread_kp.symbol_name = "squashfs_read_data";
		sqread_kp.pre_handler = sqread_pre;
		ret = register_kprobe(&sqread_kp);
		if (!ret)
			sqread_registered = true;
		else if (ret != -ENOENT)
			pr_warn("cannot probe squashfs_read_data: %d\n", ret);
	}
	mutex_unlock(&sqread_mutex);
}

static void sqread_detach(void)
{
	mutex_lock(&sqread_mutex);
	if (sqread_registered) {
		unregister_kprobe(&sqread_kp);
		sqread_missed_before += sqread_kp.nmissed;
		sqread_registered = false;
	}
	mutex_unlock(&sqread_mutex);
}

static int module_event(struct notifier_block *nb, unsigned long action, void *data)
{
	struct module *mod = data;

	if (strcmp(mod->name, "squashfs"))
		return NOTIFY_DONE;
	if (action == MODULE_STATE_COMING)
		sqread_attach();
	else if (action == MODULE_STATE_GOING)
		sqread_detach();
	return NOTIFY_DONE;
}

static struct notifier_block module_nb = {
	.notifier_call = module_event,
};

/* ---- registration --------------------------------------------------------------------- */

struct bp_tracepoint {
	const char *name;
	void *probe;
	struct tracepoint *tp;
	bool wanted;
	bool registered;
};

static struct bp_tracepoint tracepoints[] = {
	{ .name = "sched_process_exec", .probe = exec_probe },
	{ .name = "mm_filemap_add_to_page_cache", .probe = fault_probe },
};

static bool open_registered, read_registered, notifier_registered;
static unsigned long missed_before;

static void find_tracepoint(struct tracepoint *tp, void *priv)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tracepoints); i++)
		if (!strcmp(tp->name, tracepoints[i].name))
			tracepoints[i].tp = tp;
}

static bool hook_wanted(const char *hooks, const char *name)
{
	size_t len = strlen(name);
	const char *p = hooks;

	while ((p = strstr(p, name))) {
		bool starts = p == hooks || p[-1] == ',';
		bool ends = p[len] == '\0' || p[len] == ',' || p[len] == '\n';

		if (starts && ends)
			return true;
		p += len;
	}
	return false;
}

int bp_probes_register(const char *hooks)
{
	unsigned int i;
	int ret;

	parse_fs_types();
	scratch = alloc_percpu(struct bp_scratch);
	if (!scratch)
		return -ENOMEM;

	tracepoints[0].wanted = hook_wanted(hooks, "exec");
	tracepoints[1].wanted = hook_wanted(hooks, "fault");
	for_each_kernel_tracepoint(find_tracepoint, NULL);
	for (i = 0; i < ARRAY_SIZE(tracepoints); i++) {
		struct bp_tracepoint *t = &tracepoints[i];

		if (!t->wanted)
			continue;
		if (!t->tp) {
			pr_err("tracepoint %s not found\n", t->name);
			ret = -ENOENT;
			goto out_unregister;
		}
		ret = tracepoint_probe_register(t->tp, t->probe, NULL);
		if (ret) {
			pr_err("cannot attach to tracepoint %s: %d\n", t->name, ret);
			goto out_unregister;
		}
		t->registered = true;
	}

	if (hook_wanted(hooks, "open")) {
		ret = register_kretprobe(&open_krp);
		if (ret) {
			pr_err("register_kretprobe(do_filp_open) failed: %d\n", ret);
			goto out_unregister;
		}
		open_registered = true;
	}
	if (hook_wanted(hooks, "read")) {
		ret = register_kprobe(&read_kp);
		if (ret) {
			pr_err("register_kprobe(vfs_read) failed: %d\n", ret);
			goto out_unregister;
		}
		read_registered = true;
	}
	if (hook_wanted(hooks, "sqread")) {
		sqread_wanted = true;
		ret = register_module_notifier(&module_nb);
		if (ret)
			goto out_unregister;
		notifier_registered = true;
		/* squashfs may already be loaded (or built in); otherwise the notifier attaches later. */
		sqread_attach();
	}
	return 0;

out_unregister:
	bp_probes_unregister();
	return ret;
}

void bp_probes_unregister(void)
{
	unsigned int i;

	if (notifier_registered) {
		unregister_module_notifier(&module_nb);
		notifier_registered = false;
	}
	sqread_detach();
	if (read_registered) {
		unregister_kprobe(&read_kp);
		missed_before += read_kp.nmissed;
		read_registered = false;
	}
	if (open_registered) {
		unregister_kretprobe(&open_krp);
		missed_before += open_krp.nmissed + open_krp.kp.nmissed;
		open_registered = false;
	}
	for (i = 0; i < ARRAY_SIZE(tracepoints); i++) {
		if (tracepoints[i].registered) {
			tracepoint_probe_unregister(tracepoints[i].tp, tracepoints[i].probe, NULL);
			tracepoints[i].registered = false;
		}
	}
	/* Wait until no CPU is still inside one of our tracepoint probes. */
	tracepoint_synchronize_unregister();
	free_percpu(scratch);
	scratch = NULL;
}

/* Events the kprobe layer could not deliver (recursion, too many pending returns). */
unsigned long bp_probes_missed(void)
{
	unsigned long missed = missed_before + sqread_missed_before;

	if (read_registered)
		missed += read_kp.nmissed;
	if (open_registered)
		missed += open_krp.nmissed + open_krp.kp.nmissed;
	if (sqread_registered)
		missed += sqread_kp.nmissed;
	return missed;
}
