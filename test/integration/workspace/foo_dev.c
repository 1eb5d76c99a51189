// SPDX-License-Identifier: GPL-2.0
/*
 * Integration-test fixture for Refscope (hand-written, kernel style): one
 * function leaks its mutex on an allocation-failure path, one does it right.
 */
#include <linux/mutex.h>
#include <linux/slab.h>

struct foo_dev {
	struct mutex lock;
	void *buf;
	int users;
};

int foo_dev_start(struct foo_dev *fd, size_t len)
{
	mutex_lock(&fd->lock);
	fd->buf = kzalloc(len, GFP_KERNEL);
	if (!fd->buf)
		return -ENOMEM;
	fd->users++;
	mutex_unlock(&fd->lock);
	return 0;
}

int foo_dev_stop(struct foo_dev *fd)
{
	int ret = 0;

	mutex_lock(&fd->lock);
	if (!fd->users) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (--fd->users == 0) {
		kfree(fd->buf);
		fd->buf = NULL;
	}
out_unlock:
	mutex_unlock(&fd->lock);
	return ret;
}
