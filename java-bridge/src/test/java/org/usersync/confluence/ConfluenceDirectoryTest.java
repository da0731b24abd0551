package org.usersync.confluence;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.atlassian.confluence.user.ConfluenceUser;
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
import org.usersync.DirectoryUser;
import org.usersync.Engine;
import org.usersync.atlassian.HeldLocks;

/** The Confluence adapter over {@link FakeConfluence}: what lands where, and what Confluence refuses. */
class ConfluenceDirectoryTest {
    static final Path REPO = Path.of(System.getProperty("usersync.repo", "."));
    static final Path QUICKSTART = REPO.resolve("examples/quickstart");
    static final byte[] JPEG = {(byte) 0xff, (byte) 0xd8, (byte) 0xff, (byte) 0xe0, 0, 16, 'J', 'F', 'I', 'F'};

    @TempDir
    Path tmp;
    FakeConfluence confluence;
    FakeProfileApp communardo;
    FakeProfileApp linchpin;

    @BeforeEach
    void confluence() {
        confluence = new FakeConfluence();
        communardo = new FakeProfileApp(Set.of("team"));
        linchpin = new FakeProfileApp(Set.of("skills"));
    }

    ConfluenceDirectory directory(boolean thirdParty) {
        return new ConfluenceDirectory(new ConfluenceServices(confluence, confluence, confluence, confluence,
                thirdParty ? communardo : null, thirdParty ? linchpin : null), new HeldLocks());
    }

    static long number(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":(-?\\d+)").matcher(json);
        assertTrue(m.find(), name + " missing in " + json);
        return Long.parseLong(m.group(1));
    }

    static String status(String report) {
        Matcher m = Pattern.compile("\"status\":\"([A-Z_]+)\"").matcher(report);
        return m.find() ? m.group(1) : null;
    }

    String csvConfig(Path csv, String extraMapping) {
        return "{\"connectors\":[{\"id\":\"people\",\"type\":\"csv\",\"source\":{\"path\":\"" + csv + "\","
                + "\"id_column\":\"id\"},\"mapping\":[{\"target\":\"username\",\"source\":\"user\"},"
                + "{\"target\":\"display_name\",\"source\":\"name\"},{\"target\":\"email\",\"source\":\"mail\"}"
                + extraMapping + "]}]}";
    }

    @Test
    void theQuickStartLandsInConfluenceAsTheCliPlansIt() throws IOException {
        String config = Files.readString(QUICKSTART.resolve("config.json"), StandardCharsets.UTF_8);
        try (Engine engine = new Engine(tmp.resolve("state.db"), config, QUICKSTART, directory(false))) {
            String first = engine.sync();
            assertEquals("DONE", status(first), first);
            assertEquals(27, number(first, "created"));
            String out = System.getProperty("usersync.confluenceResultsOut");
            if (out != null) {
                Files.writeString(Path.of(out), engine.results(number(first, "run_id")));
            }
            ConfluenceUser alice = confluence.getUserByName("ALICE.ANDERSEN");
            Map<String, String> details = confluence.details(alice.getKey().getStringValue());
            assertEquals("Engineering", details.get("department"));
            assertEquals("VP Engineering", details.get("position"));
            assertEquals("Copenhagen", details.get("location"));
            assertEquals("1001", details.get(ConfluenceDirectory.PROPERTY_PREFIX + "employee_id"));
            assertEquals("1001", details.get(ConfluenceDirectory.EXTERNAL_ID));
            assertTrue(confluence.getGroupNames(alice).containsAll(Set.of("staff-engineering", "jira-software-users")));
            assertEquals(0, number(engine.sync(), "writes"));
        }
    }

    @Test
    void aRenameKeepsTheKeyAndAboutMeAndThirdPartyFieldsLand() throws IOException {
        Path csv = tmp.resolve("people.csv");
        Files.writeString(csv, "id,user,name,mail,about,team,skills\n7,ann,Ann A,ann@example.com,Hi,Blue,Rust\n");
        String mapping = ",{\"target\":\"profile:about_me\",\"source\":\"about\"},"
                + "{\"target\":\"communardo:team\",\"source\":\"team\"},{\"target\":\"linchpin:skills\",\"source\":\"skills\"}";
        try (Engine engine = new Engine(tmp.resolve("state.db"), csvConfig(csv, mapping), null, directory(true))) {
            assertEquals("DONE", status(engine.sync()));
            String key = confluence.getUserByName("ann").getKey().getStringValue();
            assertEquals("Hi", confluence.aboutMe(key));
            assertEquals(Map.of("team", "Blue"), communardo.of(key));
            assertEquals(Map.of("skills", "Rust"), linchpin.of(key));
            Files.writeString(csv, "id,user,name,mail,about,team,skills\n7,ann.berg,Ann Berg,ann@example.com,Hi,Red,Rust\n");
            String second = engine.sync();
            assertEquals(1, number(second, "renamed"), second);
            assertNull(confluence.getUserByName("ann"));
            assertEquals(key, confluence.getUserByName("ann.berg").getKey().getStringValue());
            assertEquals("Ann Berg", confluence.getUserByName("ann.berg").getFullName());
            assertEquals(Map.of("team", "Red"), communardo.of(key));
        }
    }

    /** The manager resolved to a person and written as a third-party profile field. */
    @Test
    void aManagerLandsAsACommunardoFieldByDisplayNameAndALinchpinFieldByUsername() throws IOException {
        communardo = new FakeProfileApp(Set.of("team", "manager"));
        linchpin = new FakeProfileApp(Set.of("skills", "manager"));
        Path csv = tmp.resolve("people.csv");
        Files.writeString(csv, "id,user,name,mail,boss\n1,cleo,Cleo Chief,cleo@example.com,\n"
                + "2,vic,Vic Vice,vic@example.com,1\n3,dev,Dev Doer,dev@example.com,2\n");
        String communardoConfig = csvConfig(csv, "").replace("\"id_column\":\"id\"",
                "\"id_column\":\"id\",\"manager_column\":\"boss\"").replace("\"mapping\"",
                "\"manager\":{\"target\":\"communardo:manager\",\"write\":\"display_name\",\"match\":\"id\"},\"mapping\"");
        try (Engine engine = new Engine(tmp.resolve("state.db"), communardoConfig, null, directory(true))) {
            String first = engine.sync();
            assertEquals("DONE", status(first), first);
            // vic and cleo are created in the same run as their reports.
            assertEquals(Map.of("manager", "Vic Vice"), communardo.of(keyOf("dev")));
            assertEquals(Map.of("manager", "Cleo Chief"), communardo.of(keyOf("vic")));
            assertEquals(Map.of(), communardo.of(keyOf("cleo")));
            assertEquals(0, number(engine.sync(), "writes"));
            engine.setConfig(communardoConfig.replace("communardo:manager", "linchpin:manager")
                    .replace("display_name\",\"match", "username\",\"match"), null);
            engine.sync();
            assertEquals(Map.of("manager", "vic"), linchpin.of(keyOf("dev")));
        }
    }

    String keyOf(String username) {
        return confluence.getUserByName(username).getKey().getStringValue();
    }

    @Test
    void withoutTheProfileAppsTheirTargetsAreAConfigurationErrorBeforeAnyWrite() throws IOException {
        Path csv = tmp.resolve("people.csv");
        Files.writeString(csv, "id,user,name,mail,team\n7,ann,Ann A,ann@example.com,Blue\n");
        String config = csvConfig(csv, ",{\"target\":\"linchpin:team\",\"source\":\"team\"}");
        try (Engine engine = new Engine(tmp.resolve("state.db"), config, null, directory(false))) {
            String report = engine.sync();
            assertEquals("FAILED", status(report), report);
            assertTrue(report.contains("linchpin:team"), report);
        } catch (ConfigurationException e) {
            assertTrue(e.getMessage().contains("linchpin:team"), e.getMessage());
        }
        assertFalse(confluence.calls.containsKey("createUser"), confluence.calls.toString());
    }

    @Test
    void aProfileValueOverConfluencesLimitFailsThatUserWithTheLimitNamed() throws IOException {
        Path csv = tmp.resolve("people.csv");
        Files.writeString(csv, "id,user,name,mail,dept\n1,cat,Cat C,cat@example.com," + "x".repeat(300)
                + "\n2,dan,Dan D,dan@example.com,Sales\n");
        String config = csvConfig(csv, ",{\"target\":\"profile:department\",\"source\":\"dept\"}");
        try (Engine engine = new Engine(tmp.resolve("state.db"), config, null, directory(false))) {
            String report = engine.sync();
            assertEquals(1, number(report, "failed"), report);
            String results = engine.results(number(report, "run_id"));
            assertTrue(results.contains("at most 254"), results);
        }
        assertEquals("Sales", confluence.details(confluence.getUserByName("dan").getKey().getStringValue())
                .get("department"));
    }

    /** What lifecycle.idle reads in Confluence: LoginManager's last login, the creation date, SAL's admin. */
    @Test
    void usersReportConfluencesLastLoginTheirCreationAndAdministrators() {
        long day = 24L * 3600 * 1000;
        long now = System.currentTimeMillis();
        confluence.now = now - 50 * day;
        String ann = confluence.addUser("ann", "Ann", "ann@example.com");
        confluence.addUser("root", "Root", "root@example.com");
        confluence.addMembership(confluence.createGroup(FakeConfluence.ADMINS), confluence.getUserByName("root"));
        confluence.loggedIn("root", now - day);
        ConfluenceDirectory dir = new ConfluenceDirectory(new ConfluenceServices(confluence, confluence, confluence,
                confluence, null, null, confluence, confluence.sal()), new HeldLocks());
        DirectoryUser a = dir.usersByKeys(List.of(ann)).get(0);
        assertNull(a.lastLogin());
        assertEquals(now - 50 * day, a.createdAt().toEpochMilli());
        assertFalse(a.admin());
        DirectoryUser root = dir.findUser("root");
        assertEquals(now - day, root.lastLogin().toEpochMilli());
        assertTrue(root.admin());
        // Without the login components, nothing is claimed: no last login, no administrator.
        DirectoryUser bare = directory(false).findUser("root");
        assertNull(bare.lastLogin());
        assertFalse(bare.admin());
    }

    @Test
    void aProfilePictureIsAnAttachmentOfThePersonalInformationAndIsSelected() {
        ConfluenceDirectory dir = directory(false);
        String key = dir.createUser("eve", "Eve E", "eve@example.com", true, "e-1");
        dir.setAvatar(key, JPEG);
        String id = confluence.profilePicture.get(key);
        assertTrue(id.endsWith("/usersync-avatar.jpg"), id);
        assertArrayEquals(JPEG, confluence.attachments.get(id));
        dir.setActive(key, false);
        assertFalse(dir.findUser("EVE").active());
    }
}
