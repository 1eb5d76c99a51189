/* Promela twin of scenarios/kfree-instead-of-kfree-rcu/safe.rsim: as the broken
 * twin, but the element is freed with kfree_rcu: an RCU callback that runs only
 * after every reader that was inside rcu_read_lock at call time has left it. */
bool freed = false;
bool on_list = true;
bool reading = false;	/* the reader is inside rcu_read_lock() */
byte epoch = 0;		/* number of read sections the reader has finished */

active proctype thread_reader() {
	bool found;
	reading = true;			/* rcu_read_lock() */
	found = on_list;
	if
	:: found -> assert(!freed)
	:: else -> skip
	fi;
	atomic { reading = false; epoch++ }	/* rcu_read_unlock() */
}

proctype rcu_callback(bool was_reading; byte snap) {
	/* grace period: the pre-existing reader has finished */
	(!was_reading || epoch != snap) -> assert(!freed); freed = true
}

active proctype thread_updater() {
	on_list = false;			/* list_del_rcu */
	atomic { run rcu_callback(reading, epoch) }	/* kfree_rcu */
}
