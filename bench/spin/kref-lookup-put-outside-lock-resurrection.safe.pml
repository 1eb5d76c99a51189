/* Promela twin of scenarios/kref-lookup-put-outside-lock-resurrection/safe.rsim.
 * As the broken twin, but every put is kref_put_mutex: decrement unless the
 * count is 1; otherwise take obj_lock, decrement, and release (unlink, unlock,
 * free) with the lock held when it reached zero. */
byte ref = 1;
bool freed = false;
bool on_list = true;
bit obj_lock = 0;

inline mutex_lock(l)   { atomic { l == 0 -> l = 1 } }
inline mutex_unlock(l) { l = 0 }

inline kref_get() {
	atomic { assert(!freed); assert(ref > 0); ref++ }
}

inline kref_put_mutex() {
	if
	:: atomic { ref != 1 -> assert(!freed); assert(ref > 0); ref-- }
	:: atomic { ref == 1 -> skip };
		mutex_lock(obj_lock);
		atomic { assert(!freed); assert(ref > 0); ref--; zero = (ref == 0) };
		if
		:: zero -> on_list = false; mutex_unlock(obj_lock); assert(!freed); freed = true
		:: else -> mutex_unlock(obj_lock)
		fi
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
	:: found -> assert(!freed); kref_put_mutex()
	:: else -> skip
	fi
}

active proctype thread_owner() {
	bool zero;
	kref_put_mutex()
}
