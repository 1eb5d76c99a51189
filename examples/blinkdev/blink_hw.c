// SPDX-License-Identifier: GPL-2.0
/*
 * blinkdev hardware side: register writes and the interrupt handler under
 * hw_lock (a spinlock, so nothing in its critical sections may sleep).
 */
#include <linux/interrupt.h>
#include "blink.h"

#define BLINK_REG_CTRL	0x00
#define BLINK_REG_STEP	0x04

/* Correct: irqsave section, no sleeping inside, GFP_ATOMIC allocation. */
int blink_hw_load(struct blink_dev *bd, const struct blink_pattern *p)
{
	unsigned long flags;
	u32 *shadow;
	size_t i;

	spin_lock_irqsave(&bd->hw_lock, flags);
	shadow = kmalloc_array(p->nsteps, sizeof(*shadow), GFP_ATOMIC);
	if (!shadow) {
		spin_unlock_irqrestore(&bd->hw_lock, flags);
		return -ENOMEM;
	}
	for (i = 0; i < p->nsteps; i++) {
		shadow[i] = p->steps[i];
		blink_write(bd, BLINK_REG_STEP, shadow[i]);
	}
	spin_unlock_irqrestore(&bd->hw_lock, flags);
	kfree(shadow);
	return 0;
}

/* BUG: sleep-in-atomic -- msleep() while hw_lock (a spinlock) is held. */
void blink_hw_reset(struct blink_dev *bd)
{
	spin_lock(&bd->hw_lock);
	blink_write(bd, BLINK_REG_CTRL, 0);
	msleep(10);
	blink_write(bd, BLINK_REG_CTRL, 1);
	spin_unlock(&bd->hw_lock);
}

/* BUG: sleep-in-atomic -- a GFP_KERNEL allocation under spin_lock_irq(). */
int blink_hw_snapshot(struct blink_dev *bd, u32 **out)
{
	u32 *buf;

	spin_lock_irq(&bd->hw_lock);
	buf = kmalloc(64, GFP_KERNEL);
	if (buf)
		buf[0] = bd->irq_count;
	spin_unlock_irq(&bd->hw_lock);
	*out = buf;
	return buf ? 0 : -ENOMEM;
}

/* BUG: sleep-in-atomic -- blink_wait_latch() (blink.h) sleeps, under an irqsave spinlock. */
void blink_hw_commit(struct blink_dev *bd)
{
	unsigned long flags;

	spin_lock_irqsave(&bd->hw_lock, flags);
	blink_write(bd, BLINK_REG_CTRL, 4);
	blink_wait_latch(bd);
	spin_unlock_irqrestore(&bd->hw_lock, flags);
}

/* Correct: trylock, and unlock only when the lock was taken. */
bool blink_hw_poke(struct blink_dev *bd)
{
	if (!spin_trylock(&bd->hw_lock))
		return false;
	blink_write(bd, BLINK_REG_CTRL, 2);
	spin_unlock(&bd->hw_lock);
	return true;
}

/* Correct: a flag correlated with the lock. */
void blink_hw_maybe_poke(struct blink_dev *bd, bool force)
{
	bool locked = false;

	if (force) {
		spin_lock(&bd->hw_lock);
		locked = true;
	}
	bd->irq_count++;
	if (locked)
		spin_unlock(&bd->hw_lock);
}

/* Correct: scoped_guard() releases the lock at the end of its block. */
void blink_irq(struct blink_dev *bd)
{
	scoped_guard(spinlock, &bd->hw_lock) {
		bd->irq_count++;
		blink_write(bd, BLINK_REG_CTRL, 3);
	}
	blink_wait_latch(bd);
}
