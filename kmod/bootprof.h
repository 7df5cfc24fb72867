/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bootprof: log which files a booting system opens, executes, reads and faults in, and which
 * squashfs blocks it reads, into a bounded in-memory log exported through debugfs.
 */
#ifndef BOOTPROF_H
#define BOOTPROF_H

#include <linux/types.h>
#include <linux/sched.h>

struct file;
struct inode;
struct seq_file;

enum bp_kind {
	BP_OPEN,
	BP_EXEC,
	BP_READ,
	BP_FAULT,
	BP_SQREAD,
	BP_NR_KINDS,
};

/* Which optional columns a record carries; absent ones print as "-". */
#define BP_HAS_DEV	0x01
#define BP_HAS_INO	0x02
#define BP_HAS_RANGE	0x04

/* One event as the probes hand it to the ring; the path travels separately. */
struct bp_event {
	u64 time_ns;
	u64 ino;
	u64 offset;
	u64 length;
	u32 dev;		/* kernel dev_t of the superblock */
	u32 pid;		/* tgid */
	u8 kind;
	u8 flags;
	char comm[TASK_COMM_LEN];
};

/* A record in the ring: the event, its sequence number, then path_len bytes of path (no NUL). */
struct bp_record {
	u64 seq;
	struct bp_event ev;
	u16 path_len;
	u16 size;		/* whole record, header + path, rounded up to 8 */
	char path[];
};

struct bp_stats {
	u64 produced;
	u64 logged;
	u64 dropped;
	u64 bytes_used;
	u64 bytes_max;
	bool running;
	bool full;		/* a drop happened: nothing more is logged until a clear */
};

/* bootprof_ring.c: a preallocated append-only log; writers never sleep. */
int bp_ring_init(size_t bytes_max);
void bp_ring_free(void);
void bp_ring_log(const struct bp_event *ev, const char *path, size_t path_len);
void bp_ring_set_running(bool running);
void bp_ring_clear(void);
void bp_ring_stats(struct bp_stats *stats);
/* Readers hold the read side between begin and end; bp_ring_clear waits for them. */
size_t bp_ring_read_begin(u64 *generation);
void bp_ring_read_end(void);
const struct bp_record *bp_ring_record_at(size_t offset, size_t limit);

/* bootprof_probes.c */
int bp_probes_check_params(const char *hooks, const char *fail_hook, const char *scope);
int bp_probes_register(const char *hooks);
void bp_probes_unregister(void);
/* Events the kprobe layer skipped, in total and per kprobe hook (index: BP_OPEN, BP_READ, BP_SQREAD). */
unsigned long bp_probes_missed(unsigned long per_kind[BP_NR_KINDS]);
bool bp_fs_wanted(const struct inode *inode);
extern char bp_fs_types[];

/* bootprof_debugfs.c */
int bp_debugfs_create(bool fail_for_test);
void bp_debugfs_remove(void);

extern const char *const bp_kind_names[BP_NR_KINDS];

#endif /* BOOTPROF_H */
