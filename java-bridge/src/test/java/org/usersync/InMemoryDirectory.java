package org.usersync;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Consumer;

/** A directory in a map, with hooks for tests: fail or block on chosen users. */
class InMemoryDirectory implements Directory {
    static final class User {
        final String key;
        String username;
        boolean active;
        final Map<String, String> values = new TreeMap<>();
        final Set<String> groups = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
        final String externalId;

        User(String key, String username, boolean active, String externalId) {
            this.key = key;
            this.username = username;
            this.active = active;
            this.externalId = externalId;
        }
    }

    private final Map<String, User> users = new TreeMap<>();
    /** Users by username, case-insensitive: creations check names in a tenant of 100,000. */
    private final Map<String, User> byName = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
    private final Set<String> groups = new TreeSet<>(String.CASE_INSENSITIVE_ORDER);
    private int nextKey;
    private String lock;
    /** Called with the username before each creation; may throw or block. */
    volatile Consumer<String> beforeCreate = name -> {};
    /** Calls the engine made, for the tests that count them. */
    int listCalls, byKeysCalls, batchesBegun, batchesEnded, writesOutsideBatch;
    boolean inBatch;
    final Map<String, byte[]> avatars = new TreeMap<>();

    synchronized User find(String username) {
        return byName.get(username);
    }

    @Override
    public synchronized DirectoryUser findUser(String username) {
        User u = find(username);
        return u == null ? null : snapshot(List.of(u)).get(0);
    }

    synchronized int count(boolean activeOnly) {
        return (int) users.values().stream().filter(u -> !activeOnly || u.active).count();
    }

    private User byKey(String key) {
        User u = users.get(key);
        if (u == null) {
            throw new DirectoryException(DirectoryException.Kind.NOT_FOUND, "no user with key " + key);
        }
        return u;
    }

    @Override
    public Capabilities capabilities() {
        return new Capabilities(true, Set.of("phone", "im", "website", "position", "department", "location"), false,
                false, false, false, true);
    }

    @Override
    public synchronized List<DirectoryUser> listUsers() {
        listCalls++;
        return snapshot(users.values());
    }

    @Override
    public synchronized List<DirectoryUser> usersByKeys(java.util.Collection<String> keys) {
        byKeysCalls++;
        List<User> found = new ArrayList<>();
        for (String k : keys) {
            if (users.containsKey(k)) {
                found.add(users.get(k));
            }
        }
        return snapshot(found);
    }

    @Override
    public synchronized void beginBatch() {
        if (inBatch) {
            throw new IllegalStateException("a batch is open already");
        }
        inBatch = true;
        batchesBegun++;
    }

    @Override
    public synchronized void endBatch() {
        if (!inBatch) {
            throw new IllegalStateException("no batch is open");
        }
        inBatch = false;
        batchesEnded++;
    }

    @Override
    public synchronized void setAvatar(String key, byte[] image) {
        byKey(key);
        avatars.put(key, image.clone());
    }

    private static List<DirectoryUser> snapshot(java.util.Collection<User> from) {
        List<DirectoryUser> out = new ArrayList<>();
        for (User u : from) {
            out.add(new DirectoryUser(u.key, u.username, u.active, new TreeMap<>(u.values), new TreeSet<>(u.groups),
                    u.externalId));
        }
        return out;
    }

    @Override
    public synchronized Set<String> listGroups() {
        return new TreeSet<>(groups);
    }

    @Override
    public String createUser(String username, String displayName, String email, boolean active, String externalId) {
        beforeCreate.accept(username);
        synchronized (this) {
            if (!inBatch) {
                writesOutsideBatch++;
            }
            if (find(username) != null) {
                throw new DirectoryException(DirectoryException.Kind.CONFLICT, "username " + username + " is taken");
            }
            String key = "j" + (++nextKey);
            User u = new User(key, username, active, externalId);
            u.values.put("display_name", displayName);
            if (email != null) {
                u.values.put("email", email);
            }
            users.put(key, u);
            byName.put(username, u);
            return key;
        }
    }

    @Override
    public synchronized void updateCore(String key, String target, String value) {
        User u = byKey(key);
        if (value == null) {
            u.values.remove(target);
        } else {
            u.values.put(target, value);
        }
    }

    @Override
    public synchronized void rename(String key, String newUsername) {
        User u = byKey(key);
        byName.remove(u.username);
        u.username = newUsername;
        byName.put(newUsername, u);
    }

    @Override
    public synchronized void setActive(String key, boolean active) {
        byKey(key).active = active;
    }

    @Override
    public synchronized void deleteUser(String key) {
        byName.remove(byKey(key).username);
        users.remove(key);
    }

    @Override
    public synchronized String anonymise(String key) {
        User u = byKey(key);
        byName.remove(u.username);
        u.username = "anonymised-" + key;
        byName.put(u.username, u);
        u.values.clear();
        u.values.put("display_name", "Anonymised user");
        u.active = false;
        return u.username;
    }

    @Override
    public synchronized void setField(String key, String target, String value) {
        updateCore(key, target, value);
    }

    @Override
    public synchronized void addMembership(String key, String group) {
        if (!groups.contains(group)) {
            throw new DirectoryException(DirectoryException.Kind.NOT_FOUND, "no group " + group);
        }
        byKey(key).groups.add(group);
    }

    @Override
    public synchronized void removeMembership(String key, String group) {
        byKey(key).groups.remove(group);
    }

    @Override
    public synchronized void createGroup(String name) {
        groups.add(name);
    }

    @Override
    public synchronized boolean tryLock(String name, long ttlSeconds) {
        if (lock != null) {
            return false;
        }
        lock = name;
        return true;
    }

    @Override
    public synchronized void unlock(String name) {
        if (name.equals(lock)) {
            lock = null;
        }
    }
}
