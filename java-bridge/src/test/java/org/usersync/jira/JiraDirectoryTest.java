package org.usersync.jira;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.atlassian.jira.user.ApplicationUser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.usersync.ConfigurationException;
import org.usersync.DirectoryException;
import org.usersync.DirectoryUser;
import org.usersync.Engine;
import org.usersync.atlassian.HeldLocks;

/** The Jira adapter over {@link FakeJira}: what lands where, and what Jira refuses. */
class JiraDirectoryTest {
    static final Path REPO = Path.of(System.getProperty("usersync.repo", "."));
    static final Path EXAMPLE = REPO.resolve("examples/jira");
    static final byte[] PNG = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13};

    @TempDir
    Path tmp;
    FakeJira jira;
    JiraDirectory dir;
    String adminKey;

    @BeforeEach
    void jira() {
        jira = new FakeJira();
        adminKey = jira.addUser("admin", "Jira Admin", "admin@example.com", FakeJira.SYSADMINS);
        dir = directory(false);
    }

    JiraDirectory directory(boolean notify) {
        return new JiraDirectory(services(jira), new JiraSettings(FakeJira.INTERNAL_DIRECTORY, "admin", notify),
                new HeldLocks());
    }

    static JiraServices services(FakeJira j) {
        return new JiraServices(j, j, j, j, j, j, j);
    }

    static long number(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(-?\\d+)").matcher(json);
        assertTrue(m.find(), name + " missing in " + json);
        return Long.parseLong(m.group(1));
    }

    String csvConfig(Path csv, String extraMapping, String linkExisting) {
        return "{\"connectors\":[{\"id\":\"people\",\"type\":\"csv\",\"source\":{\"path\":" + "\"" + csv + "\""
                + ",\"id_column\":\"id\",\"active_column\":\"status\"},\"link_existing\":\"" + linkExisting + "\","
                + "\"safety\":{\"max_destructive_percent\":100},"
                + "\"mapping\":[{\"target\":\"username\",\"source\":\"user\"},{\"target\":\"display_name\","
                + "\"source\":\"name\"},{\"target\":\"email\",\"source\":\"mail\"}" + extraMapping + "]}]}";
    }

    @Test
    void theQuickStartLandsInJiraAsTheCliPlansIt() throws IOException {
        String config = Files.readString(EXAMPLE.resolve("config.json"), StandardCharsets.UTF_8);
        try (Engine engine = new Engine(tmp.resolve("state.db"), config, EXAMPLE, dir)) {
            String first = engine.sync();
            assertEquals("DONE", field(first, "status"), first);
            assertEquals(26, number(first, "created"));
            // One row the quick start filters anyway, and one without a usable e-mail (Jira needs one).
            assertEquals(2, number(first, "filtered"), first);
            String out = System.getProperty("usersync.jiraResultsOut");
            if (out != null) {
                Files.writeString(Path.of(out), engine.results(number(first, "run_id")));
            }
            ApplicationUser alice = jira.getUserByName("Alice.Andersen");
            assertTrue(alice.getKey().startsWith("JIRAUSER"), alice.getKey());
            assertEquals("alice.andersen", alice.getUsername());
            assertEquals("Engineering", jira.properties(alice.getKey()).get("jira.meta.department"));
            assertEquals("1001", jira.properties(alice.getKey()).get("jira.meta.employee_id"));
            assertEquals("1001", jira.properties(alice.getKey()).get(JiraDirectory.EXTERNAL_ID));
            assertTrue(jira.getGroupNamesForUser(alice).containsAll(Set.of("staff-engineering", "jira-software-users")));
            assertTrue(jira.notified.isEmpty(), "Jira e-mailed " + jira.notified);
            assertEquals(0, number(engine.sync(), "writes"));
            // The administrator the sync did not create is left alone.
            assertTrue(jira.getUserByKey(adminKey).isActive());
        }
    }

    @Test
    void aRenameKeepsTheUserKeyAndAGroupMatchesWhateverItsCase() throws Exception {
        Path csv = tmp.resolve("people.csv");
        Files.writeString(csv, "id,user,name,mail,status\n7,ann,Ann A,ann@example.com,active\n");
        jira.createGroup("Staff");
        String config = csvConfig(csv, "", "none").replace("\"mapping\"", "\"groups\":{\"always\":[\"staff\"]},\"mapping\"");
        try (Engine engine = new Engine(tmp.resolve("state.db"), config, null, dir)) {
            assertEquals("DONE", field(engine.sync(), "status"));
            String key = jira.getUserByName("ann").getKey();
            assertTrue(jira.getGroupNamesForUser(jira.getUserByKey(key)).contains("Staff"));
            Files.writeString(csv, "id,user,name,mail,status\n7,ann.berg,Ann Berg,ann.berg@example.com,active\n");
            String second = engine.sync();
            assertEquals(1, number(second, "renamed"), second);
            assertNull(jira.getUserByName("ann"));
            ApplicationUser renamed = jira.getUserByName("ann.berg");
            assertEquals(key, renamed.getKey());
            assertEquals("Ann Berg", renamed.getDisplayName());
            assertEquals("ann.berg@example.com", renamed.getEmailAddress());
        }
    }

    @Test
    void profileFieldsAreAConfigurationErrorBeforeAnyWrite() throws IOException {
        String config = Files.readString(REPO.resolve("examples/quickstart/config.json"), StandardCharsets.UTF_8);
        try (Engine engine = new Engine(tmp.resolve("state.db"), config, REPO.resolve("examples/quickstart"), dir)) {
            String report = engine.sync();
            assertEquals("FAILED", field(report, "status"), report);
            assertTrue(report.contains("profile:department"), report);
        } catch (ConfigurationException e) {
            assertTrue(e.getMessage().contains("profile:department"), e.getMessage());
        }
        assertFalse(jira.calls.containsKey("createUser"), jira.calls.toString());
    }

    @Test
    void jiraRefusesToDeactivateTheLastSystemAdministratorAndTheRunGoesOn() throws IOException {
        Path csv = tmp.resolve("people.csv");
        String bob = "2,bob,Bob B,bob@example.com,active\n";
        Files.writeString(csv, "id,user,name,mail,status\n1,admin,Jira Admin,admin@example.com,active\n" + bob);
        try (Engine engine = new Engine(tmp.resolve("state.db"), csvConfig(csv, "", "username"), null, dir)) {
            assertEquals("DONE", field(engine.sync(), "status"));
            Files.writeString(csv, "id,user,name,mail,status\n1,admin,Jira Admin,admin@example.com,inactive\n"
                    + bob + "3,cy,Cy C,cy@example.com,active\n");
            String report = engine.sync();
            assertEquals(1, number(report, "failed"), report);
            assertEquals(1, number(report, "created"), report);
            String results = engine.results(number(report, "run_id"));
            assertTrue(results.contains("last active system administrator"), results);
        }
        assertTrue(jira.getUserByKey(adminKey).isActive());
        assertTrue(jira.getUserByName("cy").isActive());
    }

    @Test
    void aPropertyOverJirasLimitFailsThatUserWithTheLimitNamed() throws IOException {
        Path csv = tmp.resolve("people.csv");
        Files.writeString(csv, "id,user,name,mail,status,bio\n1,cat,Cat C,cat@example.com,active," + "x".repeat(300)
                + "\n2,dan,Dan D,dan@example.com,active,short\n");
        String config = csvConfig(csv, ",{\"target\":\"property:bio\",\"source\":\"bio\"}", "none");
        try (Engine engine = new Engine(tmp.resolve("state.db"), config, null, dir)) {
            String report = engine.sync();
            String results = engine.results(number(report, "run_id"));
            assertTrue(results.contains("at most 255"), results);
        }
        assertEquals("short", jira.properties(jira.getUserByName("dan").getKey()).get("jira.meta.bio"));
        assertNull(jira.properties(jira.getUserByName("cat").getKey()).get("jira.meta.bio"));
    }

    @Test
    void serviceManagementOrganisationsFollowTheSourceAndAreRefusedWithoutIt() throws Exception {
        Path csv = tmp.resolve("people.csv");
        StringBuilder rows = new StringBuilder("id,user,name,mail,status,org\n");
        for (int i = 1; i <= 60; i++) {
            rows.append(i).append(",c").append(i).append(",C ").append(i).append(",c").append(i)
                    .append("@example.com,active,").append(i == 1 ? "Beta;Acme" : "Org " + (i % 55)).append('\n');
        }
        Files.writeString(csv, rows.toString());
        String mapping = ",{\"target\":\"jsm:organization\",\"source\":\"org\"}";
        String config = csvConfig(csv, mapping, "none");
        // Without Service Management the target is refused before anything is written.
        try (Engine engine = new Engine(tmp.resolve("none.db"), config, null, dir)) {
            String report = engine.sync();
            assertEquals("FAILED", field(report, "status"), report);
            assertTrue(report.contains("jsm:organization"), report);
        } catch (ConfigurationException e) {
            assertTrue(e.getMessage().contains("jsm:organization"), e.getMessage());
        }
        assertFalse(jira.calls.containsKey("createUser"));

        FakeServiceManagement jsm = new FakeServiceManagement(jira);
        JiraDirectory withJsm = new JiraDirectory(new JiraServices(jira, jira, jira, jira, jira, jira, jira,
                new JsmOrganizations(jsm)), new JiraSettings(FakeJira.INTERNAL_DIRECTORY, "admin", false),
                new HeldLocks());
        try (Engine engine = new Engine(tmp.resolve("state.db"), config, null, withJsm)) {
            assertEquals("DONE", field(engine.sync(), "status"));
            Map<String, Set<String>> members = jsm.membersByOrganisation();
            assertEquals(Set.of("c1"), members.get("Acme"));
            assertEquals(Set.of("c1"), members.get("Beta"));
            assertEquals(Set.of("c2", "c57"), members.get("Org 2"), "more than one page of organisations");
            assertEquals(0, number(engine.sync(), "writes"), "the set reads back equal, whatever its order");
            Files.writeString(csv, rows.toString().replace("Beta;Acme", "Beta"));
            assertEquals(1, number(engine.sync(), "updated"));
            assertEquals(Set.of(), jsm.membersByOrganisation().get("Acme"));
            assertEquals(Set.of("c1"), jsm.membersByOrganisation().get("Beta"));
        }
    }

    @Test
    void avatarsAreCreatedAndSelectedAndOnlyImagesAreAccepted() {
        String key = dir.createUser("eve", "Eve E", "eve@example.com", true, "e-1");
        dir.setAvatar(key, PNG);
        Long selected = jira.selectedAvatar.get(key);
        assertArrayEquals(PNG, jira.avatars.get(selected));
        DirectoryException e = assertThrows(DirectoryException.class, () -> dir.setAvatar(key, "GIF89a?".getBytes()));
        assertEquals(DirectoryException.Kind.FAILED, e.kind());
    }

    @Test
    void newUsersAreEmailedOnlyWhenConfiguredAndOtherDirectoriesAreNotListed() {
        jira.addDirectory(2);
        jira.addUserIn(2, "ldap.user");
        directory(true).createUser("fay", "Fay F", "fay@example.com", true, "f-1");
        assertEquals(java.util.List.of("fay"), jira.notified);
        Set<String> listed = new java.util.TreeSet<>();
        for (DirectoryUser u : dir.listUsers()) {
            listed.add(u.username());
        }
        assertEquals(Set.of("admin", "fay"), listed);
        DirectoryUser fay = dir.findUser("FAY");
        assertEquals("f-1", fay.externalId());
    }

    /**
     * lifecycle.idle in Jira: the adapter reports Jira's last login (LoginService), the creation
     * date Crowd keeps, and SAL's "administrator" answer — so an administrator by a global
     * permission granted to any group is never disabled, whatever exempt_groups says.
     */
    @Test
    void idleUsersAreDisabledFromJirasLoginRecordsNeverAnAdministrator() throws Exception {
        long day = 24L * 3600 * 1000;
        long now = System.currentTimeMillis();
        Path csv = tmp.resolve("people.csv");
        StringBuilder rows = new StringBuilder("id,user,name,mail,status\n");
        for (String u : List.of("ann", "bob", "carol", "dave")) {
            rows.append(u.hashCode()).append(',').append(u).append(',').append(u).append(',').append(u)
                    .append("@example.com,active\n");
        }
        Files.writeString(csv, rows.toString());
        String config = csvConfig(csv, "", "none");
        String idle = config.replace("\"mapping\"",
                "\"lifecycle\":{\"idle\":{\"days\":90,\"never_logged_in_days\":30,\"exempt_groups\":[]}},\"mapping\"");
        jira.now = now - 200 * day;
        JiraServices services = new JiraServices(jira, jira, jira, jira, jira, jira, jira, null, jira, jira.sal());
        JiraDirectory withLogins = new JiraDirectory(services,
                new JiraSettings(FakeJira.INTERNAL_DIRECTORY, "admin", false), new HeldLocks());
        try (Engine engine = new Engine(tmp.resolve("state.db"), config, null, withLogins)) {
            assertEquals(4, number(engine.sync(), "created"));
            jira.now = now - 10 * day;
            Files.writeString(csv, rows.append("5,eve,eve,eve@example.com,active\n").toString());
            assertEquals(1, number(engine.sync(), "created"));
            jira.now = now;
            // bob administers Jira through a group granted the permission; ann and bob have not
            // logged in for 120 days, carol logged in 10 days ago, dave never did (created 200
            // days ago) and eve never did either but was created 10 days ago.
            jira.adminGroups.add("it-admins");
            jira.addUserToGroup(jira.createGroup("it-admins"), jira.getUserByName("bob"));
            jira.loggedIn("ann", now - 120 * day);
            jira.loggedIn("bob", now - 120 * day);
            jira.loggedIn("carol", now - 10 * day);
            engine.setConfig(idle, null);
            DirectoryUser ann = withLogins.findUser("ann");
            assertEquals(now - 120 * day, ann.lastLogin().toEpochMilli());
            assertEquals(now - 200 * day, ann.createdAt().toEpochMilli());
            assertFalse(ann.admin());
            assertTrue(withLogins.findUser("bob").admin());
            assertNull(withLogins.findUser("dave").lastLogin());
            assertEquals(now - 10 * day, withLogins.findUser("eve").createdAt().toEpochMilli());

            String sim = engine.simulate();
            assertEquals(2, number(sim, "disabled"), sim);
            assertTrue(jira.getUserByName("ann").isActive(), "a simulation writes nothing");
            String report = engine.sync();
            assertEquals(2, number(report, "disabled"), report);
            assertFalse(jira.getUserByName("ann").isActive());
            assertFalse(jira.getUserByName("dave").isActive());
            for (String kept : List.of("bob", "carol", "eve", "admin")) {
                assertTrue(jira.getUserByName(kept).isActive(), kept);
            }
            String results = engine.results(number(report, "run_id"));
            assertTrue(results.contains("no login for over 90 days"), results);
            assertTrue(results.contains("never logged in since created on"), results);
        }
    }

    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]*)\"").matcher(json);
        return m.find() ? m.group(1) : null;
    }
}
