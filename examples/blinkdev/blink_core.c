// SPDX-License-Identifier: GPL-2.0
/*
 * blinkdev core: pattern list management under cfg_lock (a mutex).
 */
#include <linux/errno.h>
#include "blink.h"

static struct blink_pattern *blink_find(struct blink_dev *bd, unsigned int id)
{
	struct blink_pattern *p;

	lockdep_assert_held(&bd->cfg_lock);
	list_for_each_entry(p, &bd->patterns, link) {
		if (p->id == id)
			return p;
	}
	return NULL;
}

/* Correct: a goto ladder that unlocks on every path. */
int blink_add_pattern(struct blink_dev *bd, unsigned int id, const u8 *steps, size_t n)
{
	struct blink_pattern *p;
	int ret;

	p = kzalloc(sizeof(*p), GFP_KERNEL);
	if (!p)
		return -ENOMEM;

	mutex_lock(&bd->cfg_lock);
	if (bd->npatterns >= BLINK_MAX_PATTERNS) {
		ret = -ENOSPC;
		goto err_unlock;
	}
	if (blink_find(bd, id)) {
		ret = -EEXIST;
		goto err_unlock;
	}
	p->steps = kmemdup(steps, n, GFP_KERNEL);
	if (!p->steps) {
		ret = -ENOMEM;
		goto err_unlock;
	}
	p->id = id;
	p->nsteps = n;
	list_add_tail(&p->link, &bd->patterns);
	bd->npatterns++;
	mutex_unlock(&bd->cfg_lock);
	return 0;

err_unlock:
	mutex_unlock(&bd->cfg_lock);
	kfree(p);
	return ret;
}

/* BUG: lock-leak -- the -ENOENT path returns with cfg_lock held. */
int blink_remove_pattern(struct blink_dev *bd, unsigned int id)
{
	struct blink_pattern *p;

	mutex_lock(&bd->cfg_lock);
	p = blink_find(bd, id);
	if (!p)
		return -ENOENT;
	list_del(&p->link);
	bd->npatterns--;
	mutex_unlock(&bd->cfg_lock);

	kfree(p->steps);
	kfree(p);
	return 0;
}

/* Correct: interruptible lock, returns early only when it was not taken. */
int blink_set_enabled(struct blink_dev *bd, bool on)
{
	int ret;

	ret = mutex_lock_interruptible(&bd->cfg_lock);
	if (ret)
		return ret;
	bd->enabled = on;
	mutex_unlock(&bd->cfg_lock);
	return 0;
}

/* Correct: scope-based locking with guard(). */
unsigned int blink_count(struct blink_dev *bd)
{
	guard(mutex)(&bd->cfg_lock);
	return bd->npatterns;
}

/* BUG: double-lock -- the !enabled path takes cfg_lock a second time. */
int blink_toggle_pattern(struct blink_dev *bd, unsigned int id)
{
	struct blink_pattern *p;
	int ret = 0;

	mutex_lock(&bd->cfg_lock);
	if (!bd->enabled) {
		mutex_lock(&bd->cfg_lock);
		ret = -EAGAIN;
	}
	p = blink_find(bd, id);
	if (p)
		p->period_ms = p->period_ms ? 0 : 500;
	mutex_unlock(&bd->cfg_lock);
	return ret;
}

/* BUG: unlock-unheld -- the error path unlocks twice. */
int blink_rename_pattern(struct blink_dev *bd, unsigned int id, unsigned int new_id)
{
	struct blink_pattern *p;
	int ret = 0;

	mutex_lock(&bd->cfg_lock);
	p = blink_find(bd, id);
	if (!p) {
		mutex_unlock(&bd->cfg_lock);
		ret = -ENOENT;
		goto out;
	}
	p->id = new_id;
out:
	mutex_unlock(&bd->cfg_lock);
	return ret;
}
