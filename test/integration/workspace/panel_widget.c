// SPDX-License-Identifier: GPL-2.0
/*
 * Integration-test fixture for the lifecycle panel: a refcounted object found
 * under a mutex with a plain kref_get, while the last put happens without the
 * lock (the broken twin of the kref_get_unless_zero design).
 */
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/slab.h>

struct panel_widget {
	struct kref ref;
	struct list_head node;
	int id;
};

static DEFINE_MUTEX(panel_widget_lock);
static LIST_HEAD(panel_widget_list);

static void panel_widget_release(struct kref *ref)
{
	struct panel_widget *w = container_of(ref, struct panel_widget, ref);

	mutex_lock(&panel_widget_lock);
	list_del(&w->node);
	mutex_unlock(&panel_widget_lock);
	kfree(w);
}

void panel_widget_put(struct panel_widget *w)
{
	kref_put(&w->ref, panel_widget_release);
}

struct panel_widget *panel_widget_create(int id)
{
	struct panel_widget *w = kzalloc(sizeof(*w), GFP_KERNEL);

	if (!w)
		return NULL;
	kref_init(&w->ref);
	w->id = id;
	mutex_lock(&panel_widget_lock);
	list_add(&w->node, &panel_widget_list);
	mutex_unlock(&panel_widget_lock);
	return w;
}

struct panel_widget *panel_widget_find(int id)
{
	struct panel_widget *w, *found = NULL;

	mutex_lock(&panel_widget_lock);
	list_for_each_entry(w, &panel_widget_list, node) {
		if (w->id == id) {
			kref_get(&w->ref);
			found = w;
			break;
		}
	}
	mutex_unlock(&panel_widget_lock);
	return found;
}
