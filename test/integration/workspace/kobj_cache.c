// SPDX-License-Identifier: GPL-2.0
/*
 * Integration-test fixture for Refscope (hand-written, kernel style): a
 * refcounted object kept in a mutex-protected lookup list. kobj_lookup()
 * ignores the result of kref_get_unless_zero(); kobj_publish() returns early
 * with the mutex held although it has an unlock label.
 */
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>

struct kobj_cache {
	struct mutex lock;
	struct list_head objects;
};

struct kobj {
	struct kref ref;
	struct list_head node;
	struct kobj_cache *cache;
	int id;
};

static void kobj_release(struct kref *ref)
{
	struct kobj *obj = container_of(ref, struct kobj, ref);

	list_del(&obj->node);
	mutex_unlock(&obj->cache->lock);
	kfree(obj);
}

struct kobj *kobj_lookup(struct kobj_cache *c, int id)
{
	struct kobj *obj;

	mutex_lock(&c->lock);
	list_for_each_entry(obj, &c->objects, node) {
		if (obj->id == id) {
			kref_get_unless_zero(&obj->ref);
			mutex_unlock(&c->lock);
			return obj;
		}
	}
	mutex_unlock(&c->lock);
	return NULL;
}

int kobj_publish(struct kobj_cache *c, struct kobj *obj)
{
	int ret = 0;

	mutex_lock(&c->lock);
	if (obj->id < 0)
		return -EINVAL;
	if (obj->cache) {
		ret = -EBUSY;
		goto out_unlock;
	}
	kref_get(&obj->ref);
	obj->cache = c;
	list_add(&obj->node, &c->objects);
out_unlock:
	mutex_unlock(&c->lock);
	return ret;
}

void kobj_drop(struct kobj_cache *c, struct kobj *obj)
{
	mutex_lock(&c->lock);
	kref_put(&obj->ref, kobj_release);
	mutex_unlock(&c->lock);
}
