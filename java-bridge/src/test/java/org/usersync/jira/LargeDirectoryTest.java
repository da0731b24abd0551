package org.usersync.jira;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.usersync.Capabilities;
import org.usersync.Directory;
import org.usersync.DirectoryUser;
import org.usersync.Engine;
import org.usersync.atlassian.HeldLocks;

/**
 * Jira with 100,000 users: a login and a single-user sync ask the directory a handful of
 * questions, and Jira a handful more — never the whole user list. (The engine's side of an
 * incremental round at this size is counted in tests/it/lookups.rs.)
 */
class LargeDirectoryTest {
    static final int USERS = 100_000;

    @TempDir
    Path tmp;

    /** The engine's calls into the directory, counted by method. */
    static final class Counting implements Directory {
        final Directory inner;
        final Map<String, Integer> calls = new TreeMap<>();

        Counting(Directory inner) {
            this.inner = inner;
        }

        private synchronized void count(String m) {
            calls.merge(m, 1, Integer::sum);
        }

        synchronized Map<String, Integer> take() {
            Map<String, Integer> out = new TreeMap<>(calls);
            calls.clear();
            return out;
        }

        public Capabilities capabilities() { count("capabilities"); return inner.capabilities(); }

        public List<DirectoryUser> listUsers() { count("listUsers"); return inner.listUsers(); }

        public DirectoryUser findUser(String u) { count("findUser"); return inner.findUser(u); }

        public DirectoryUser findByExternalId(String id) { count("findByExternalId"); return inner.findByExternalId(id); }

        public List<DirectoryUser> usersByKeys(Collection<String> keys) { count("usersByKeys"); return inner.usersByKeys(keys); }

        public void beginBatch() { count("beginBatch"); inner.beginBatch(); }

        public void endBatch() { count("endBatch"); inner.endBatch(); }

        public void setAvatar(String key, byte[] image) { count("setAvatar"); inner.setAvatar(key, image); }

        public Set<String> listGroups() { count("listGroups"); return inner.listGroups(); }

        public String createUser(String u, String d, String e, boolean a, String x) {
            count("createUser");
            return inner.createUser(u, d, e, a, x);
        }

        public void updateCore(String k, String t, String v) { count("updateCore"); inner.updateCore(k, t, v); }

        public void rename(String k, String n) { count("rename"); inner.rename(k, n); }

        public void setActive(String k, boolean a) { count("setActive"); inner.setActive(k, a); }

        public void deleteUser(String k) { count("deleteUser"); inner.deleteUser(k); }

        public String anonymise(String k) { count("anonymise"); return inner.anonymise(k); }

        public void setField(String k, String t, String v) { count("setField"); inner.setField(k, t, v); }

        public void addMembership(String k, String g) { count("addMembership"); inner.addMembership(k, g); }

        public void removeMembership(String k, String g) { count("removeMembership"); inner.removeMembership(k, g); }

        public void createGroup(String n) { count("createGroup"); inner.createGroup(n); }

        public boolean tryLock(String n, long t) { count("tryLock"); return inner.tryLock(n, t); }

        public void unlock(String n) { count("unlock"); inner.unlock(n); }
    }

    static int total(Map<String, Integer> calls) {
        return calls.values().stream().mapToInt(Integer::intValue).sum();
    }

    @Test
    void aLoginAndASingleUserSyncAskAHandfulOfQuestionsOfAJiraWith100kUsers() throws Exception {
        FakeJira jira = new FakeJira();
        jira.addUser("admin", "Jira Admin", "admin@example.com", FakeJira.SYSADMINS);
        for (int i = 1; i <= USERS; i++) {
            String name = String.format("user%06d", i);
            jira.addUser(name, "User " + i, name + "@example.com");
        }
        Path csv = tmp.resolve("people.csv");
        Files.writeString(csv, "id,user,name,mail\n5,user000005,User Five,user000005@example.com\n"
                + "100001,newcomer,New Comer,newcomer@example.com\n");
        String config = "{\"connectors\":[{\"id\":\"people\",\"type\":\"csv\",\"provision_on_login\":true,"
                + "\"link_existing\":\"username\",\"source\":{\"path\":\"" + csv + "\",\"id_column\":\"id\"},"
                + "\"mapping\":[{\"target\":\"username\",\"source\":\"user\"},{\"target\":\"display_name\",\"source\":\"name\"},"
                + "{\"target\":\"email\",\"source\":\"mail\"}]}]}";
        Counting dir = new Counting(new JiraDirectory(new JiraServices(jira, jira, jira, jira, jira, jira, jira),
                new JiraSettings(FakeJira.INTERNAL_DIRECTORY, "admin", false), new HeldLocks()));
        try (Engine engine = new Engine(tmp.resolve("state.db"), config, null, dir)) {
            jira.calls.clear();
            String active = engine.onLogin(null, "user050000");
            assertTrue(active.contains("\"allow\":true"), active);
            Map<String, Integer> asked = dir.take();
            assertEquals(Map.of("findUser", 1), asked, "a login of an active user is one look-up");
            assertTrue(jira.totalCalls() <= 4, "Jira was asked " + jira.calls);

            jira.calls.clear();
            String provisioned = engine.onLogin(null, "newcomer");
            assertTrue(provisioned.contains("\"allow\":true"), provisioned);
            asked = dir.take();
            System.out.println("JIT login among 100,000: the engine asked " + asked + "; Jira was asked " + jira.calls);
            assertFalse(asked.containsKey("listUsers"), asked.toString());
            assertTrue(total(asked) <= 12, "the engine asked " + asked);
            assertFalse(jira.calls.containsKey("getAllApplicationUsers"), jira.calls.toString());
            assertTrue(jira.totalCalls() <= 40, "Jira was asked " + jira.calls);
            assertNotNull(jira.getUserByName("newcomer"));

            jira.calls.clear();
            String one = engine.syncUser("5");
            assertTrue(one.contains("\"status\":\"DONE\""), one);
            asked = dir.take();
            System.out.println("single-user sync among 100,000: the engine asked " + asked + "; Jira was asked "
                    + jira.calls);
            assertFalse(asked.containsKey("listUsers"), asked.toString());
            assertTrue(total(asked) <= 12, "the engine asked " + asked);
            assertFalse(jira.calls.containsKey("getAllApplicationUsers"), jira.calls.toString());
            assertTrue(jira.totalCalls() <= 40, "Jira was asked " + jira.calls);
            assertEquals("User Five", jira.getUserByName("user000005").getDisplayName());
        }
    }
}
