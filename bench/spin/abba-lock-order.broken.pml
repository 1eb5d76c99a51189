/* Promela twin of scenarios/abba-lock-order/broken.rsim: two mutexes taken in
 * opposite orders. Spin reports the deadlock as an invalid end state. */
bit dev_lock = 0;
bit obj_lock = 0;

inline mutex_lock(l)   { atomic { l == 0 -> l = 1 } }
inline mutex_unlock(l) { assert(l == 1); l = 0 }

active proctype thread_ioctl() {
	mutex_lock(dev_lock);
	mutex_lock(obj_lock);
	mutex_unlock(obj_lock);
	mutex_unlock(dev_lock)
}

active proctype thread_release() {
	mutex_lock(obj_lock);
	mutex_lock(dev_lock);
	mutex_unlock(dev_lock);
	mutex_unlock(obj_lock)
}
