/* Promela twin of scenarios/kref-lookup-put-outside-lock-resurrection/broken.rsim.
 * The list holds no reference; the lookup gets under obj_lock; the final put
 * runs outside obj_lock and the release takes obj_lock to unlink.
 * Assertions: no increment from zero, no use after free, no underflow. */
byte ref = 1;		/* the creator's reference */
bool freed = false;
bool on_list = true;
bit obj_lock = 0;

inline mutex_lock(l)   { atomic { l == 0 -> l = 1 } }
inline mutex_unlock(l) { l = 0 }

inline kref_get() {
	atomic { assert(!freed); assert(ref > 0); ref++ }
}

inline obj_release() {
	mutex_lock(obj_lock);
	on_list = false;
	mutex_unlock(obj_lock);
	assert(!freed);
	freed = true
}

inline kref_put() {
	atomic { assert(!freed); assert(ref > 0); ref--; zero = (ref == 0) }
	if
	:: zero -> obj_release()
	:: else -> skip
	fi
}

active proctype thread_lookup() {
	bool found = false;
	bool zero;
	mutex_lock(obj_lock);
	found = on_list;
	if
	:: found -> kref_get()
	:: else -> skip
	fi;
	mutex_unlock(obj_lock);
	if
	:: found -> assert(!freed); kref_put()
	:: else -> skip
	fi
}

active proctype thread_owner() {
	bool zero;
	kref_put()
}
