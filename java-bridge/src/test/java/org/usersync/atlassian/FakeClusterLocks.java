package org.usersync.atlassian;

import com.atlassian.beehive.ClusterLock;
import com.atlassian.beehive.ClusterLockService;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;

/**
 * The cluster's locks, shared by the fake nodes of one JVM; each node takes them through its
 * {@link #node} view. Modelled rules (Beehive ClusterLockService / ClusterLock, which is a
 * java.util.concurrent.locks.Lock): one lock per name across the cluster; reentrant for the
 * thread that holds it; unlock by another thread throws IllegalMonitorStateException; no
 * conditions. A node that dies stops holding its locks once the cluster declares it gone (the
 * database-backed locks of Data Center belong to a live node): {@link #kill}.
 */
public final class FakeClusterLocks implements ClusterLockService {
    private final Map<String, State> locks;
    private final String node;

    public FakeClusterLocks() {
        this(new ConcurrentHashMap<>(), "node");
    }

    private FakeClusterLocks(Map<String, State> locks, String node) {
        this.locks = locks;
        this.node = node;
    }

    /** The same cluster's locks as node {@code name} takes them. */
    public FakeClusterLocks node(String name) {
        return new FakeClusterLocks(locks, name);
    }

    /** The cluster declares node {@code name} gone: its locks are free. */
    public void kill(String name) {
        locks.values().forEach(s -> s.release(name));
    }

    public boolean isLocked(String name) {
        State s = locks.get(name);
        return s != null && s.holder() != null;
    }

    @Override
    public ClusterLock getLockForName(String name) {
        return new Handle(locks.computeIfAbsent(name, n -> new State()), node);
    }

    private static final class State {
        private String node;
        private Thread thread;
        private int holds;

        synchronized String holder() {
            return node;
        }

        synchronized boolean tryTake(String by) {
            if (thread == null || thread == Thread.currentThread()) {
                node = by;
                thread = Thread.currentThread();
                holds++;
                return true;
            }
            return false;
        }

        synchronized void take(String by) {
            while (!tryTake(by)) {
                try {
                    wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for a cluster lock");
                }
            }
        }

        synchronized void give() {
            if (thread != Thread.currentThread()) {
                throw new IllegalMonitorStateException("the cluster lock is not held by this thread");
            }
            if (--holds == 0) {
                node = null;
                thread = null;
                notifyAll();
            }
        }

        synchronized void release(String deadNode) {
            if (deadNode.equals(node)) {
                node = null;
                thread = null;
                holds = 0;
                notifyAll();
            }
        }
    }

    private record Handle(State state, String node) implements ClusterLock {
        @Override
        public boolean tryLock() {
            return state.tryTake(node);
        }

        @Override
        public void lock() {
            state.take(node);
        }

        @Override
        public void lockInterruptibly() {
            state.take(node);
        }

        @Override
        public boolean tryLock(long time, TimeUnit unit) {
            return state.tryTake(node);
        }

        @Override
        public void unlock() {
            state.give();
        }

        @Override
        public Condition newCondition() {
            throw new UnsupportedOperationException("cluster locks have no conditions");
        }
    }
}
