// SPDX-License-Identifier: GPL-2.0
/*
 * bootprof.ko - log file accesses during boot, for ordering a live CD's squashfs.
 *
 *   insmod bootprof.ko [buf_kb=4096] [fs_types=overlay,squashfs] [hooks=open,exec,read,fault,sqread]
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

static bool start = true;
module_param(start, bool, 0444);
MODULE_PARM_DESC(start, "Log from load time (default Y); otherwise write start to the control file");

static int __init bootprof_init(void)
{
	int ret;

	if (buf_kb < 16 || buf_kb > 1048576) {
		pr_err("buf_kb=%u is out of range 16..1048576\n", buf_kb);
		return -EINVAL;
	}
	ret = bp_ring_init((size_t)buf_kb * 1024);
	if (ret) {
		pr_err("cannot allocate %u KiB for the log\n", buf_kb);
		return ret;
	}
	ret = bp_debugfs_create();
	if (ret)
		goto out_free_ring;
	bp_ring_set_running(start);
	ret = bp_probes_register(hooks);
	if (ret)
		goto out_remove_debugfs;
	pr_info("logging %s on %s into %u KiB\n", hooks, bp_fs_types, buf_kb);
	return 0;

out_remove_debugfs:
	bp_ring_set_running(false);
	bp_debugfs_remove();
out_free_ring:
	bp_ring_free();
	return ret;
}

static void __exit bootprof_exit(void)
{
	struct bp_stats s;

	bp_ring_set_running(false);
	/* No reader may hold a record once the ring is freed: debugfs removal waits for them. */
	bp_debugfs_remove();
	/* After this no handler runs or will run, so the ring can go. */
	bp_probes_unregister();
	bp_ring_stats(&s);
	pr_info("unloaded: produced %llu logged %llu dropped %llu missed %lu\n",
		s.produced, s.logged, s.dropped, bp_probes_missed());
	bp_ring_free();
}

module_init(bootprof_init);
module_exit(bootprof_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Log file opens, execs, reads, page-cache fills and squashfs block reads during boot");
