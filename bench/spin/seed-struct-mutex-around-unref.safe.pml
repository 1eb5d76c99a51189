/* Promela twin of scenarios/seed-struct-mutex-around-unref/safe.rsim (the seed's
 * design 1): the offset map holds a pointer without a reference; the mmap lookup
 * uses kref_get_unless_zero under struct_mutex; the free function takes
 * struct_mutex to remove the object from the map; unreferences take no lock. */
byte ref = 1;
bool freed = false;
bool in_map = true;
bit struct_mutex = 0;

inline mutex_lock(l)   { atomic { l == 0 -> l = 1 } }
inline mutex_unlock(l) { l = 0 }

inline gem_object_free() {
	mutex_lock(struct_mutex);
	in_map = false;
	mutex_unlock(struct_mutex);
	assert(!freed);
	freed = true
}

inline kref_put() {
	atomic { assert(!freed); assert(ref > 0); ref--; zero = (ref == 0) }
	if
	:: zero -> gem_object_free()
	:: else -> skip
	fi
}

active proctype thread_mmap() {
	bool found = false;
	bool got = false;
	bool zero;
	mutex_lock(struct_mutex);
	found = in_map;
	if
	:: found -> atomic {
			assert(!freed);
			if
			:: ref > 0 -> ref++; got = true	/* kref_get_unless_zero */
			:: else -> got = false
			fi
		}
	:: else -> skip
	fi;
	mutex_unlock(struct_mutex);
	if
	:: got -> assert(!freed); kref_put()
	:: else -> skip
	fi
}

active proctype thread_unreference() {
	bool zero;
	kref_put()
}
