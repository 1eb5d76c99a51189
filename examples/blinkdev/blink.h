/* SPDX-License-Identifier: GPL-2.0 */
/*
 * blinkdev: a toy LED-controller driver in kernel style, written for the
 * Refscope examples. Some functions contain deliberate locking bugs; each is
 * marked "BUG:" and names the rule that reports it. Everything else is correct
 * and must stay quiet.
 */
#ifndef _BLINK_H
#define _BLINK_H

#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/list.h>
#include <linux/delay.h>
#include <linux/slab.h>

#define BLINK_MAX_PATTERNS	16

struct blink_pattern {
	struct list_head link;
	unsigned int id;
	unsigned int period_ms;
	u8 *steps;
	size_t nsteps;
};

struct blink_dev {
	struct mutex cfg_lock;		/* protects patterns, npatterns, enabled */
	spinlock_t hw_lock;		/* protects the registers and irq_count */
	struct list_head patterns;
	unsigned int npatterns;
	bool enabled;
	unsigned long irq_count;
	void __iomem *regs;
};

/* Waits for the hardware to latch a write: sleeps. */
static inline void blink_wait_latch(struct blink_dev *bd)
{
	usleep_range(50, 100);
}

/* Register access: caller holds hw_lock. */
static inline void blink_write(struct blink_dev *bd, unsigned int reg, u32 val)
	__must_hold(&bd->hw_lock)
{
	writel(val, bd->regs + reg);
}

int blink_add_pattern(struct blink_dev *bd, unsigned int id, const u8 *steps, size_t n);
int blink_remove_pattern(struct blink_dev *bd, unsigned int id);
int blink_set_enabled(struct blink_dev *bd, bool on);
void blink_irq(struct blink_dev *bd);

#endif /* _BLINK_H */
