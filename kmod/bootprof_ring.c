// SPDX-License-Identifier: GPL-2.0
/*
 * The event log: one preallocated byte area filled front to back. A boot profile wants the
 * *first* accesses, so when the area is full new events are dropped (and counted) rather than
 * overwriting old ones. "Full" is sticky: after the first drop every later event is dropped too,
 * even a small one that would still fit, so the log is always exactly the first `logged` events
 * produced and the drops are all at its end (seq stays gapless and means "produced order").
 *
 * Writers run in probe context (preemption off, maybe interrupts off): they only take ring_lock
 * with irqsave and copy bytes. Readers (debugfs, process context) take clear_rwsem for reading;
 * records below the "used" mark they saw are complete and never change until a clear, and a
 * clear takes clear_rwsem for writing, so it waits for every reader.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/vmalloc.h>
#include "bootprof.h"

static DEFINE_SPINLOCK(ring_lock);
static DECLARE_RWSEM(clear_rwsem);

static char *ring;		/* bytes_max bytes, allocated once at load */
static size_t bytes_max;
static size_t used;		/* bytes holding complete records */
static u64 next_seq;
static u64 generation;		/* bumped by every clear, so readers notice */
static u64 produced;
static u64 dropped;
static bool running;
static bool full;

int bp_ring_init(size_t max)
{
	ring = vzalloc(max);
	if (!ring)
		return -ENOMEM;
	bytes_max = max;
	return 0;
}

void bp_ring_free(void)
{
	vfree(ring);
	ring = NULL;
}

void bp_ring_log(const struct bp_event *ev, const char *path, size_t path_len)
{
	struct bp_record *rec;
	unsigned long flags;
	size_t size;

	if (path_len > U16_MAX)
		path_len = 0;
	size = ALIGN(sizeof(*rec) + path_len, 8);

	spin_lock_irqsave(&ring_lock, flags);
	if (!running)
		goto out_unlock;
	produced++;
	if (full || size > bytes_max - used) {
		full = true;
		dropped++;
		goto out_unlock;
	}
	rec = (struct bp_record *)(ring + used);
	rec->seq = next_seq++;
	rec->ev = *ev;
	rec->path_len = path_len;
	rec->size = size;
	memcpy(rec->path, path, path_len);
	used += size;
out_unlock:
	spin_unlock_irqrestore(&ring_lock, flags);
}

void bp_ring_set_running(bool on)
{
	unsigned long flags;

	spin_lock_irqsave(&ring_lock, flags);
	running = on;
	spin_unlock_irqrestore(&ring_lock, flags);
}

void bp_ring_clear(void)
{
	unsigned long flags;

	down_write(&clear_rwsem);
	spin_lock_irqsave(&ring_lock, flags);
	used = 0;
	generation++;
	next_seq = 0;
	produced = 0;
	dropped = 0;
	full = false;
	spin_unlock_irqrestore(&ring_lock, flags);
	up_write(&clear_rwsem);
}

void bp_ring_stats(struct bp_stats *s)
{
	unsigned long flags;

	spin_lock_irqsave(&ring_lock, flags);
	s->produced = produced;
	s->logged = next_seq;
	s->dropped = dropped;
	s->bytes_used = used;
	s->bytes_max = bytes_max;
	s->running = running;
	s->full = full;
	spin_unlock_irqrestore(&ring_lock, flags);
}

size_t bp_ring_read_begin(u64 *gen)
{
	unsigned long flags;
	size_t limit;

	down_read(&clear_rwsem);
	spin_lock_irqsave(&ring_lock, flags);
	limit = used;
	*gen = generation;
	spin_unlock_irqrestore(&ring_lock, flags);
	return limit;
}

void bp_ring_read_end(void)
{
	up_read(&clear_rwsem);
}

/* The record starting at offset, or NULL past limit. Only valid between read_begin and read_end. */
const struct bp_record *bp_ring_record_at(size_t offset, size_t limit)
{
	const struct bp_record *rec;

	if (offset >= limit || limit - offset < sizeof(*rec))
		return NULL;
	rec = (const struct bp_record *)(ring + offset);
	if (rec->size < sizeof(*rec) || rec->size > limit - offset)
		return NULL;
	return rec;
}
