package org.usersync.jira;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.atlassian.jira.user.ApplicationUser;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.usersync.atlassian.FakeClusterLocks;
import org.usersync.atlassian.FakeEvents;
import org.usersync.atlassian.FakeHome;
import org.usersync.atlassian.FakeScheduler;
import org.usersync.atlassian.ScimServlet;
import org.usersync.atlassian.ServletsAccess;
import org.usersync.atlassian.ao.FakeActiveObjects;

/**
 * The SCIM endpoint inside Jira: an IdP's pushes through the plugin's servlet land in Jira (over
 * {@link FakeJira}) as the sequence says — created, grouped, renamed with their key kept,
 * deactivated and deleted users disabled after the window.
 */
class JiraScimTest {
    static final String TOKEN = "jira-scim-token-0123456789abcdef";

    @TempDir
    Path tmp;
    JiraApp app;

    @AfterEach
    void stop() {
        if (app != null) {
            app.onStop();
        }
    }

    static String user(String name) {
        return "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\"],\"userName\":\"" + name + "\","
                + "\"displayName\":\"Person " + name + "\",\"emails\":[{\"value\":\"" + name
                + "@corp.example\",\"type\":\"work\",\"primary\":true}],\"active\":true}";
    }

    static String patch(String ops) {
        return "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":" + ops + "}";
    }

    static String id(String json) {
        Matcher m = Pattern.compile("\"id\":\"([^\"]+)\"").matcher(json);
        assertTrue(m.find(), json);
        return m.group(1);
    }

    static int count(String text, String needle) {
        int n = 0;
        for (int at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
            n++;
        }
        return n;
    }

    static List<String> inactive(FakeJira jira) {
        return jira.getAllApplicationUsers().stream().filter(u -> !u.isActive()).map(ApplicationUser::getUsername)
                .sorted().toList();
    }

    @Test
    void anIdpsPushesLandInJiraThroughTheServlet() throws Exception {
        FakeJira jira = new FakeJira();
        jira.addUser("admin", "Jira Admin", "admin@example.com", FakeJira.SYSADMINS);
        String config = "{\"connectors\":[{\"id\":\"okta-push\",\"type\":\"scim-inbound\",\"preset\":\"scim\","
                + "\"source\":{\"bearer_token\":\"" + TOKEN + "\",\"deactivation_window_seconds\":1},"
                + "\"groups\":{\"create_missing\":true},\"safety\":{\"max_destructive_percent\":100}}]}";
        new FakeHome(tmp.resolve("node1"), tmp.resolve("shared")).configure(config, "jira.acting.user=admin\n");
        app = new JiraApp(new FakeHome(tmp.resolve("node1"), tmp.resolve("shared")), new FakeActiveObjects(),
                new FakeScheduler(), new FakeClusterLocks().node("node1"), new FakeEvents(), jira, jira, jira, jira,
                jira, jira, jira, jira, jira.sal());
        app.onStart();
        assertNull(app.problem());
        ScimServlet scim = new ScimServlet(app);

        ServletsAccess.Result denied = ServletsAccess.scim(scim, null, "POST", "/Users", user("eve"));
        assertEquals(401, denied.status());
        assertTrue(denied.headers().get("WWW-Authenticate").startsWith("Bearer"));
        assertNull(jira.getUserByName("eve"));

        List<String> ids = new ArrayList<>();
        for (int i = 1; i <= 100; i++) {
            ServletsAccess.Result r = ServletsAccess.scim(scim, TOKEN, "POST", "/Users", user("u" + i));
            assertEquals(201, r.status(), r.body());
            assertTrue(r.headers().get("Location").startsWith("http://jira.example.com:8080/plugins/servlet/usersync/scim/v2/Users/"));
            ids.add(id(r.body()));
        }
        ApplicationUser u1 = jira.getUserByName("u1");
        assertNotNull(u1, "created in Jira at once");
        assertEquals("u1@corp.example", u1.getEmailAddress());
        String group = "{\"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:Group\"],\"displayName\":\"scim-staff\","
                + "\"members\":[{\"value\":\"" + ids.get(0) + "\"},{\"value\":\"" + ids.get(1) + "\"}]}";
        assertEquals(201, ServletsAccess.scim(scim, TOKEN, "POST", "/Groups", group).status());
        assertTrue(jira.getGroupNamesForUser(jira.getUserByName("u2")).contains("scim-staff"));
        String key3 = jira.getUserByName("u3").getKey();
        ServletsAccess.Result renamed = ServletsAccess.scim(scim, TOKEN, "PATCH", "/Users/" + ids.get(2),
                patch("[{\"op\":\"Replace\",\"path\":\"userName\",\"value\":\"u3-new\"}]"));
        assertEquals(200, renamed.status(), renamed.body());
        assertEquals(key3, jira.getUserByName("u3-new").getKey(), "renamed, the key kept");
        // Five deactivations (u41..u45) and two deletions (u51, u52).
        for (int i = 40; i < 45; i++) {
            assertEquals(200, ServletsAccess.scim(scim, TOKEN, "PATCH", "/Users/" + ids.get(i),
                    patch("[{\"op\":\"replace\",\"value\":{\"active\":false}}]")).status());
        }
        for (int i = 50; i < 52; i++) {
            assertEquals(204, ServletsAccess.scim(scim, TOKEN, "DELETE", "/Users/" + ids.get(i), "").status());
        }
        assertTrue(jira.getUserByName("u41").isActive(), "deactivations wait for the window");
        long deadline = System.currentTimeMillis() + 30_000;
        while (inactive(jira).size() < 7 && System.currentTimeMillis() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(List.of("u41", "u42", "u43", "u44", "u45", "u51", "u52"), inactive(jira));
        assertEquals(101, jira.getAllApplicationUsers().size(), "the 100 pushed and the administrator");
        assertNull(jira.getUserByName("u3"));
        // Every step is in the history: a run per created user, group member and rename, and the
        // window's run for the deactivations and deletions.
        String history = app.engine().history(500);
        assertEquals(100 + 2 + 1, count(history, "\"trigger\":\"scim\""), history);
        assertEquals(1, count(history, "\"trigger\":\"scim: deactivations\""), history);
        ServletsAccess.Result bad = ServletsAccess.scim(scim, TOKEN, "POST", "/Users", "{\"userName\":");
        assertEquals(400, bad.status());
        assertTrue(bad.body().contains("\"scimType\":\"invalidSyntax\""), bad.body());
        assertTrue(bad.headers().get("Content-Type").startsWith("application/scim+json"));
    }
}
