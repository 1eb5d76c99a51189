/* SPDX-License-Identifier: GPL-2.0 */
/* Integration-test fixture: a header whose inline helper leaks a spinlock. */
#ifndef _FOO_DEV_H
#define _FOO_DEV_H

#include <linux/spinlock.h>

struct foo_stats {
	spinlock_t lock;
	int count;
};

static inline int foo_stats_inc(struct foo_stats *st, int limit)
{
	spin_lock(&st->lock);
	if (st->count >= limit)
		return -EBUSY;
	st->count++;
	spin_unlock(&st->lock);
	return 0;
}

#endif /* _FOO_DEV_H */
