// SPDX-License-Identifier: GPL-2.0
/*
 * bootprof.ko - log file accesses during boot, for ordering a live CD's squashfs.
 *
 *   insmod bootprof.ko [buf_kb=4096] [fs_types=overlay,squashfs] [hooks=open,exec,read,fault,sqread]
 *                      [scope=live|all] [maxactive=4096]
 *   cat /sys/kernel/debug/bootprof/events      # tab-separated events
 *   cat /sys/kernel/debug/bootprof/files       # first-access path list (bootlog.list)
 *   cat /sys/kernel/debug/bootprof/stats
 *   echo stop|start|clear > /sys/kernel/debug/bootprof/control
 *
 * See README.md for why these hooks.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include "bootprof.h"

static unsigned int buf_kb = 4096;
module_param(buf_kb, uint, 0444);
MODULE_PARM_DESC(buf_kb, "Memory for the event log in KiB, allocated at load (default 4096; 16..1048576)");

static char hooks[64] = "open,exec,read,fault,sqread";
module_param_string(hooks, hooks, sizeof(hooks), 0444);
MODULE_PARM_DESC(hooks, "Comma-separated hooks to attach: open,exec,read,fault,sqread");

module_param_string(fs_types, bp_fs_types, 128, 0444);
MODULE_PARM_DESC(fs_types, "Comma-separated filesystem types to log, or * for all (default overlay,squashfs)");

static char scope[8] = "live";
module_param_string(scope, scope, sizeof(scope), 0444);
MODULE_PARM_DESC(scope, "live (default): only tasks in the loader's mount namespace or on the live root's superblock; all: every task");

/* Test only: the named hook's registration fails as if its symbol or tracepoint were missing. */
static char fail_hook[16];
module_param_string(fail_hook, fail_hook, sizeof(fail_hook), 0);
MODULE_PARM_DESC(fail_hook, "Testing: make this hook fail to attach, or (debugfs) the debugfs setup fail after a pause, to exercise the unwind path");

static bool start = true;
module_param(start, bool, 0444);
MODULE_PARM_DESC(start, "Log from load time (default Y); otherwise write start to the control file");

static int __init bootprof_init(void)
{
	bool fail_debugfs;
	int ret;

	if (buf_kb < 16 || buf_kb > 1048576) {
		pr_err("buf_kb=%u is out of range 16..1048576\n", buf_kb);
		return -EINVAL;
	}
	/* fail_hook=debugfs: the last debugfs file fails, after a pause in which a reader can open one */
	fail_debugfs = !strcmp(fail_hook, "debugfs");
	ret = bp_probes_check_params(hooks, fail_debugfs ? "" : fail_hook, scope);
	if (ret)
		return ret;
	ret = bp_ring_init((size_t)buf_kb * 1024);
	if (ret) {
		pr_err("cannot allocate %u KiB for the log\n", buf_kb);
		return ret;
	}
	bp_ring_set_running(start);
	ret = bp_probes_register(hooks);
	if (ret)
		goto out_free_ring;
	/*
	 * debugfs comes last: once a file exists a reader may hold it open, and its release would
	 * run module code after a failed init freed it. Nothing after this point may fail.
	 */
	ret = bp_debugfs_create(fail_debugfs);
	if (ret)
		goto out_unregister;
	pr_info("logging %s on %s (scope %s) into %u KiB\n", hooks, bp_fs_types, scope, buf_kb);
	return 0;

out_unregister:
	bp_ring_set_running(false);
	bp_probes_unregister();
out_free_ring:
	bp_ring_free();
	return ret;
}

static void __exit bootprof_exit(void)
{
	unsigned long per_kind[BP_NR_KINDS];
	struct bp_stats s;

	bp_ring_set_running(false);
	/* No reader may hold a record once the ring is freed: debugfs removal waits for them. */
	bp_debugfs_remove();
	/* After this no handler runs or will run, so the ring can go. */
	bp_probes_unregister();
	bp_ring_stats(&s);
	pr_info("unloaded: produced %llu logged %llu dropped %llu missed %lu\n",
		s.produced, s.logged, s.dropped, bp_probes_missed(per_kind));
	bp_ring_free();
}

module_init(bootprof_init);
module_exit(bootprof_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Log file opens, execs, reads, page-cache fills and squashfs block reads during boot");
