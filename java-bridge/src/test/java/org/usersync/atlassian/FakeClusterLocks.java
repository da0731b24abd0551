package org.usersync.atlassian;

import com.atlassian.beehive.ClusterLock;
import com.atlassian.beehive.ClusterLockService;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Cluster locks shared by the fake nodes of one JVM. Modelled rules (Beehive ClusterLockService /
 * ClusterLock): one lock object per name; the lock is reentrant and owned by the thread that took
 * it, and unlock from another thread throws IllegalMonitorStateException, as
 * java.util.concurrent.locks.ReentrantLock does; newCondition is not supported.
 */
public final class FakeClusterLocks implements ClusterLockService {
    private final Map<String, Lock> locks = new ConcurrentHashMap<>();

    private static final class Lock extends ReentrantLock implements ClusterLock {
        private static final long serialVersionUID = 1L;

        @Override
        public Condition newCondition() {
            throw new UnsupportedOperationException("cluster locks have no conditions");
        }

        @Override
        public boolean tryLock(long time, TimeUnit unit) throws InterruptedException {
            return super.tryLock(time, unit);
        }
    }

    @Override
    public ClusterLock getLockForName(String name) {
        return locks.computeIfAbsent(name, n -> new Lock());
    }

    public boolean isLocked(String name) {
        Lock l = locks.get(name);
        return l != null && l.isLocked();
    }
}
