package org.usersync.atlassian.ao;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.usersync.Engine;
import org.usersync.StateException;
import org.usersync.StateTables;
import org.usersync.atlassian.FakeClusterLocks;
import org.usersync.atlassian.HeldLocks;
import org.usersync.jira.FakeJira;
import org.usersync.jira.JiraDirectory;
import org.usersync.jira.JiraServices;
import org.usersync.jira.JiraSettings;

/** The engine's state in the application's database: the store contract, secrets, a real sync. */
class StateTablesTest {
    static final Path REPO = Path.of(System.getProperty("usersync.repo", "."));

    @TempDir
    Path tmp;
    FakeActiveObjects db;
    AoStateTables tables;

    @BeforeEach
    void database() throws Exception {
        db = new FakeActiveObjects();
        tables = new AoStateTables(db, new FakeClusterLocks(), SecretBox.open(tmp.resolve("secret.key")));
    }

    @Test
    void theApplicationDatabaseMeetsTheStateStoreContractAndTheCheckCleansUp() {
        Engine.checkStateTables(tables);
        for (Map<String, Object> row : db.rows(StateDoc.class)) {
            assertEquals(AoStateTables.SEQUENCES, row.get("TABLE_NAME"), "left behind: " + row);
        }
    }

    /** Tables that drop every expectation: two nodes could both claim a fire time or a run. */
    static final class Careless implements StateTables {
        final StateTables inner;

        Careless(StateTables inner) {
            this.inner = inner;
        }

        public Doc get(String table, String key) {
            return inner.get(table, key);
        }

        public List<Entry> scan(String table, String prefix, String after, boolean descending, int limit) {
            return inner.scan(table, prefix, after, descending, limit);
        }

        public boolean write(List<Write> writes) {
            List<Write> careless = new ArrayList<>();
            for (Write w : writes) {
                careless.add(new Write(w.table(), w.key(), w.value(), null));
            }
            return inner.write(careless);
        }

        public long nextId(String sequence) {
            return inner.nextId(sequence);
        }
    }

    @Test
    void tablesWithoutCompareAndSetFailTheCheckWithTheRuleNamed() {
        StateException e = assertThrows(StateException.class, () -> Engine.checkStateTables(new Careless(tables)));
        assertTrue(e.getMessage().contains("contract"), e.getMessage());
    }

    @Test
    void theConfigurationIsEncryptedWithAKeyThatIsNotInTheDatabase() throws Exception {
        String config = "{\"client_secret\":\"s3cr3t-value-123\"}";
        assertTrue(tables.write(List.of(new StateTables.Write("config", "current", config, null))));
        String stored = (String) db.rows(StateDoc.class).get(0).get("DOC_VALUE");
        assertTrue(stored.startsWith("v1:"), stored);
        assertFalse(stored.contains("s3cr3t"), stored);
        assertEquals(config, tables.get("config", "current").value());
        assertTrue(Files.readString(tmp.resolve("secret.key")).length() > 40);
        AoStateTables otherKey = new AoStateTables(db, new FakeClusterLocks(), SecretBox.open(tmp.resolve("other.key")));
        StateException e = assertThrows(StateException.class, () -> otherKey.get("config", "current"));
        assertTrue(e.getMessage().contains("secret.key"), e.getMessage());
    }

    @Test
    void anEngineKeepsItsStateInTheApplicationDatabase() throws Exception {
        FakeJira jira = new FakeJira();
        jira.addUser("admin", "Jira Admin", "admin@example.com", FakeJira.SYSADMINS);
        JiraDirectory dir = new JiraDirectory(new JiraServices(jira, jira, jira, jira, jira, jira, jira),
                new JiraSettings(FakeJira.INTERNAL_DIRECTORY, "admin", false), new HeldLocks());
        Path example = REPO.resolve("examples/jira");
        String config = Files.readString(example.resolve("config.json"), StandardCharsets.UTF_8);
        try (Engine engine = new Engine(tables, config, example, dir)) {
            String first = engine.sync();
            assertTrue(first.contains("\"status\":\"DONE\""), first);
            assertEquals(0, number(engine.sync(), "writes"), "the anchors came back from the database");
            String history = engine.history(5);
            assertEquals(2, count(history, "\"status\":\"DONE\""), history);
        }
        assertTrue(db.rows(StateDoc.class).stream().anyMatch(r -> "identities".equals(r.get("TABLE_NAME"))));
    }

    static long number(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(-?\\d+)").matcher(json);
        assertTrue(m.find(), name + " missing in " + json);
        return Long.parseLong(m.group(1));
    }

    static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}
