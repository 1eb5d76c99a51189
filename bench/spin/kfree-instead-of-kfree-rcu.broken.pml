/* Promela twin of scenarios/kfree-instead-of-kfree-rcu/broken.rsim: an RCU
 * reader dereferences the element it found; the updater unlinks it and frees it
 * at once. Assertion: no dereference of freed memory. */
bool freed = false;
bool on_list = true;

active proctype thread_reader() {
	bool found;
	/* rcu_read_lock() */
	found = on_list;
	if
	:: found -> assert(!freed)	/* do_something(e->data) */
	:: else -> skip
	fi
	/* rcu_read_unlock() */
}

active proctype thread_updater() {
	on_list = false;	/* list_del_rcu */
	freed = true		/* kfree: no grace period */
}
