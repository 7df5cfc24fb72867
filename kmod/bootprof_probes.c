// SPDX-License-Identifier: GPL-2.0
/*
 * Where events come from (README.md explains the choice):
 *   open   kretprobe on do_filp_open: every open(2)/openat(2)/execve path walk ends there
 *   exec   tracepoint sched_process_exec: the binary that really ran
 *   read   kretprobe on vfs_read: read(2)/pread64(2) on regular files, logged on return with the
 *          offset before the call and the bytes really read (never the caller's raw arguments)
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
#include <linux/fs_struct.h>
#include <linux/kprobes.h>
#include <linux/limits.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mount.h>
#include <linux/mutex.h>
#include <linux/nsproxy.h>
#include <linux/pagemap.h>
#include <linux/percpu.h>
#include <linux/ptrace.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/tracepoint.h>
#include <trace/events/filemap.h>
#include <trace/events/sched.h>
#include "bootprof.h"

/* squashfs_read_data() gets data block lengths with this flag set when the block is stored raw. */
#define SQUASHFS_COMPRESSED_BIT_BLOCK	(1 << 24)

#define BP_MAX_FS_TYPES	8
#define BP_FS_NAME_MAX	32

char bp_fs_types[128] = "overlay,squashfs";

static unsigned int maxactive = 4096;
module_param(maxactive, uint, 0444);
MODULE_PARM_DESC(maxactive, "Calls of do_filp_open and vfs_read that may be pending at once before the kprobe layer misses returns (default 4096; 64..65536)");

static char fs_type_names[BP_MAX_FS_TYPES][BP_FS_NAME_MAX];
static unsigned int nr_fs_types;
static bool all_fs_types;

static const char *const hook_names[] = { "open", "exec", "read", "fault", "sqread" };
static const char *fail_hook_name;	/* testing: this hook's registration fails */

/* scope=live: the loader's mount namespace, and the superblock of the live system's root. */
static bool scope_all;
static struct mnt_namespace *live_mnt_ns;
static struct super_block *live_root_sb;

struct bp_scratch {
	bool busy;
	char buf[PATH_MAX];
};

static struct bp_scratch __percpu *scratch;

/* ---- parameters ----------------------------------------------------------------------- */

/* Next comma-separated item of *p (spaces and a trailing newline allowed): its length, 0 at the end. */
static size_t next_item(const char **p)
{
	while (**p == ',' || **p == ' ' || **p == '\n')
		(*p)++;
	return strcspn(*p, ", \n");
}

static bool is_hook_name(const char *s, size_t len)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(hook_names); i++)
		if (strlen(hook_names[i]) == len && !strncmp(s, hook_names[i], len))
			return true;
	return false;
}

/* Every parameter is checked before anything is allocated or attached: a bad one fails the load. */
int bp_probes_check_params(const char *hooks, const char *fail_hook, const char *scope)
{
	const char *p = hooks;
	unsigned int n = 0;
	size_t len;

	while ((len = next_item(&p))) {
		if (!is_hook_name(p, len)) {
			pr_err("hooks=: unknown hook \"%.*s\" (known: open,exec,read,fault,sqread)\n",
			       (int)min_t(size_t, len, 32), p);
			return -EINVAL;
		}
		n++;
		p += len;
	}
	if (!n) {
		pr_err("hooks= names no hook\n");
		return -EINVAL;
	}
	fail_hook_name = NULL;
	if (fail_hook[0]) {
		if (!is_hook_name(fail_hook, strlen(fail_hook))) {
			pr_err("fail_hook=%s is not a hook name\n", fail_hook);
			return -EINVAL;
		}
		fail_hook_name = fail_hook;
	}
	if (!strcmp(scope, "all") || !strcmp(scope, "all\n")) {
		scope_all = true;
	} else if (!strcmp(scope, "live") || !strcmp(scope, "live\n")) {
		scope_all = false;
	} else {
		pr_err("scope=%s: expected live or all\n", scope);
		return -EINVAL;
	}
	if (maxactive < 64 || maxactive > 65536) {
		pr_err("maxactive=%u is out of range 64..65536\n", maxactive);
		return -EINVAL;
	}

	nr_fs_types = 0;
	all_fs_types = false;
	p = bp_fs_types;
	while ((len = next_item(&p))) {
		if (len == 1 && *p == '*') {
			all_fs_types = true;
		} else if (len >= BP_FS_NAME_MAX) {
			pr_err("fs_types=: \"%.*s...\" is longer than %d characters\n", 16, p,
			       BP_FS_NAME_MAX - 1);
			return -EINVAL;
		} else if (nr_fs_types == BP_MAX_FS_TYPES) {
			pr_err("fs_types=: more than %d filesystem types\n", BP_MAX_FS_TYPES);
			return -EINVAL;
		} else {
			strscpy(fs_type_names[nr_fs_types++], p, len + 1);
		}
		p += len;
	}
	if (!nr_fs_types && !all_fs_types) {
		pr_err("fs_types= names no filesystem type\n");
		return -EINVAL;
	}
	return 0;
}

static bool hook_fails(const char *name)
{
	return fail_hook_name && !strcmp(fail_hook_name, name);
}

/* ---- filtering ------------------------------------------------------------------------ */

/* The superblock of the current task's root; the task itself is the only one that changes it. */
static struct super_block *task_root_sb(void)
{
	struct fs_struct *fs = current->fs;
	struct vfsmount *mnt;

	if (!fs)
		return NULL;
	mnt = READ_ONCE(fs->root.mnt);
	return mnt ? mnt->mnt_sb : NULL;
}

/*
 * scope=live: the task belongs to the system being profiled when it shares the loader's mount
 * namespace (boot scripts, chroots, kernel threads), or when its root is the live root's
 * superblock (services sandboxed in their own namespace over the same root). A container has
 * its own namespace and its own root filesystem, so neither holds. Pointers are only compared.
 */
static bool bp_task_wanted(void)
{
	struct nsproxy *ns;

	if (scope_all)
		return true;
	ns = current->nsproxy;
	if (ns && ns->mnt_ns == live_mnt_ns)
		return true;
	return task_root_sb() == READ_ONCE(live_root_sb);
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
	if (!all_fs_types) {
		for (i = 0; i < nr_fs_types; i++)
			if (!strcmp(name, fs_type_names[i]))
				break;
		if (i == nr_fs_types)
			return false;
	}
	return bp_task_wanted();
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

/* maxactive is set at registration: every task inside do_filp_open holds one instance. */
static struct kretprobe open_krp = {
	.kp.symbol_name = "do_filp_open",
	.handler = open_ret,
};

/*
 * ---- read: kretprobe on vfs_read(file, buf, count, pos) -------------------------------
 * The arguments are the caller's wish, not what happened: pread(fd, b, 1, 1e17) or
 * read(fd, b, SIZE_MAX) (EFAULT) would log absurd ranges. So the entry handler keeps the file
 * and the offset before the call, and the return handler logs the bytes the call really read.
 */
struct read_call {
	struct file *file;	/* the caller holds a reference until vfs_read returns */
	loff_t pos;
};

static int read_entry(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct read_call *call = (struct read_call *)ri->data;
	struct file *file = (struct file *)regs_get_kernel_argument(regs, 0);
	loff_t *pos = (loff_t *)regs_get_kernel_argument(regs, 3);

	/* pos is NULL only for stream files; nonzero skips the return handler */
	if (!file || !pos || !S_ISREG(file_inode(file)->i_mode) || !bp_fs_wanted(file_inode(file)))
		return 1;
	call->file = file;
	call->pos = *pos;
	return 0;
}
NOKPROBE_SYMBOL(read_entry);

static int read_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	struct read_call *call = (struct read_call *)ri->data;
	long ret = (long)regs_return_value(regs);

	if (ret > 0 && call->pos >= 0)
		emit_file(BP_READ, call->file, call->pos, ret, BP_HAS_RANGE);
	return 0;
}
NOKPROBE_SYMBOL(read_ret);

static struct kretprobe read_krp = {
	.kp.symbol_name = "vfs_read",
	.entry_handler = read_entry,
	.handler = read_ret,
	.data_size = sizeof(struct read_call),
};

/* ---- exec: tracepoint sched_process_exec ---------------------------------------------- */

static bool exec_wanted;

static void exec_probe(void *data, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	/* init exec'ing after switch_root: its root is now the live system's root */
	if (current->tgid == 1 && !scope_all)
		WRITE_ONCE(live_root_sb, task_root_sb());
	if (exec_wanted && bprm && bprm->file)
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

	if (!bp_task_wanted())
		return 0;
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
static unsigned long missed_before[BP_NR_KINDS];

/*
 * The tracepoint helpers (register_trace_*) are not exported, but their prototypes are: passing
 * our probes to them in an unevaluated sizeof makes a probe of the wrong type a compile error.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic error "-Wincompatible-pointer-types"
static inline void bp_check_probe_types(void)
{
	BUILD_BUG_ON(sizeof(register_trace_sched_process_exec(exec_probe, NULL)) != sizeof(int));
	BUILD_BUG_ON(sizeof(register_trace_mm_filemap_add_to_page_cache(fault_probe, NULL)) != sizeof(int));
}
#pragma GCC diagnostic pop

static void find_tracepoint(struct tracepoint *tp, void *priv)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(tracepoints); i++)
		if (!strcmp(tp->name, tracepoints[i].name))
			tracepoints[i].tp = tp;
}

static bool hook_wanted(const char *hooks, const char *name)
{
	const char *p = hooks;
	size_t len;

	while ((len = next_item(&p))) {
		if (len == strlen(name) && !strncmp(p, name, len))
			return true;
		p += len;
	}
	return false;
}

static void live_scope_init(void)
{
	struct nsproxy *ns = current->nsproxy;

	/* the loader (insmod) is the system being profiled: its namespace and root */
	live_mnt_ns = ns ? ns->mnt_ns : NULL;
	WRITE_ONCE(live_root_sb, task_root_sb());
}

static int register_open_like(struct kretprobe *krp, const char *hook, const char *symbol,
			      bool *registered)
{
	int ret;

	krp->maxactive = maxactive;
	krp->kp.symbol_name = hook_fails(hook) ? "bootprof_no_such_symbol" : symbol;
	ret = register_kretprobe(krp);
	if (ret) {
		pr_err("cannot attach the %s hook (kretprobe on %s): %d\n", hook, krp->kp.symbol_name, ret);
		return ret;
	}
	*registered = true;
	return 0;
}

int bp_probes_register(const char *hooks)
{
	unsigned int i;
	int ret;

	bp_check_probe_types();
	live_scope_init();
	scratch = alloc_percpu(struct bp_scratch);
	if (!scratch)
		return -ENOMEM;

	exec_wanted = hook_wanted(hooks, "exec");
	/* the exec tracepoint also follows init into the live root (scope=live) */
	tracepoints[0].wanted = exec_wanted || !scope_all;
	tracepoints[1].wanted = hook_wanted(hooks, "fault");
	for_each_kernel_tracepoint(find_tracepoint, NULL);
	for (i = 0; i < ARRAY_SIZE(tracepoints); i++) {
		struct bp_tracepoint *t = &tracepoints[i];

		if (!t->wanted)
			continue;
		if (!t->tp || hook_fails(i == 0 ? "exec" : "fault")) {
			pr_err("cannot attach the %s hook: tracepoint %s not found\n", i == 0 ? "exec" : "fault",
			       t->name);
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
		ret = register_open_like(&open_krp, "open", "do_filp_open", &open_registered);
		if (ret)
			goto out_unregister;
	}
	if (hook_wanted(hooks, "read")) {
		ret = register_open_like(&read_krp, "read", "vfs_read", &read_registered);
		if (ret)
			goto out_unregister;
	}
	if (hook_wanted(hooks, "sqread")) {
		sqread_wanted = true;
		ret = register_module_notifier(&module_nb);
		if (ret)
			goto out_unregister;
		notifier_registered = true;
		/* squashfs may already be loaded (or built in); otherwise the notifier attaches later. */
		sqread_attach();
		if (hook_fails("sqread")) {
			/* the last hook: failing here unwinds every other one */
			pr_err("cannot attach the sqread hook: failing as fail_hook= asks\n");
			ret = -ENOENT;
			goto out_unregister;
		}
	}
	return 0;

out_unregister:
	bp_probes_unregister();
	return ret;
}

static unsigned long kretprobe_missed(struct kretprobe *krp)
{
	return krp->nmissed + krp->kp.nmissed;
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
		unregister_kretprobe(&read_krp);
		missed_before[BP_READ] += kretprobe_missed(&read_krp);
		read_registered = false;
	}
	if (open_registered) {
		unregister_kretprobe(&open_krp);
		missed_before[BP_OPEN] += kretprobe_missed(&open_krp);
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

/* Events the kprobe layer could not deliver (recursion, more pending returns than maxactive). */
unsigned long bp_probes_missed(unsigned long per_kind[BP_NR_KINDS])
{
	unsigned long total = 0;
	unsigned int i;

	for (i = 0; i < BP_NR_KINDS; i++)
		per_kind[i] = missed_before[i];
	per_kind[BP_SQREAD] += sqread_missed_before;
	if (read_registered)
		per_kind[BP_READ] += kretprobe_missed(&read_krp);
	if (open_registered)
		per_kind[BP_OPEN] += kretprobe_missed(&open_krp);
	if (sqread_registered)
		per_kind[BP_SQREAD] += sqread_kp.nmissed;
	for (i = 0; i < BP_NR_KINDS; i++)
		total += per_kind[i];
	return total;
}
