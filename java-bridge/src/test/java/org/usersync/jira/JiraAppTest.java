package org.usersync.jira;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.atlassian.jira.event.user.LoginEvent;
import com.atlassian.sal.api.auth.LoginUriProvider;
import com.atlassian.sal.api.user.UserKey;
import com.atlassian.sal.api.user.UserManager;
import com.atlassian.sal.api.user.UserProfile;
import com.atlassian.scheduler.JobRunnerResponse;
import com.atlassian.scheduler.config.JobConfig;
import com.atlassian.scheduler.config.JobId;
import com.atlassian.scheduler.config.RunMode;
import com.atlassian.scheduler.status.RunOutcome;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.servlet.http.HttpServletRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.usersync.atlassian.AdminServlet;
import org.usersync.atlassian.FakeClusterLocks;
import org.usersync.atlassian.FakeEvents;
import org.usersync.atlassian.FakeHome;
import org.usersync.atlassian.FakeScheduler;
import org.usersync.atlassian.LoginFilter;
import org.usersync.atlassian.ServletsAccess;
import org.usersync.atlassian.ao.CuttableActiveObjects;
import org.usersync.atlassian.ao.FakeActiveObjects;

/** The app in Jira: its lifecycle, its scheduled jobs, its login hook and its admin page. */
class JiraAppTest {
    static final JobId JOB = JobId.of("org.usersync.people.full");

    @TempDir
    Path tmp;
    FakeJira jira;
    FakeClusterLocks locks;
    FakeEvents events;
    FakeActiveObjects db;
    Path csv;
    JiraApp app;

    @BeforeEach
    void jira() throws Exception {
        jira = new FakeJira();
        jira.addUser("admin", "Jira Admin", "admin@example.com", FakeJira.SYSADMINS);
        locks = new FakeClusterLocks();
        events = new FakeEvents();
        db = new FakeActiveObjects();
        csv = tmp.resolve("people.csv");
        people("ann,active", "bob,active", "carol,active", "dave,active");
        new FakeHome(tmp.resolve("node1"), tmp.resolve("shared")).configure(config(), "jira.acting.user=admin\n");
    }

    @AfterEach
    void stop() {
        if (app != null) {
            app.onStop();
        }
    }

    void people(String... rows) throws Exception {
        StringBuilder b = new StringBuilder("id,user,mail,status\n");
        int id = 1;
        for (String row : rows) {
            String[] f = row.split(",");
            b.append(id++).append(',').append(f[0]).append(',').append(f[0]).append("@example.com,").append(f[1])
                    .append('\n');
        }
        Files.writeString(csv, b.toString());
    }

    String config() {
        return "{\"operations\":{\"lease_seconds\":2},"
                + "\"connectors\":[{\"id\":\"people\",\"type\":\"csv\",\"schedule\":\"0 0 2 * * ?\","
                + "\"source\":{\"path\":\"" + csv + "\",\"id_column\":\"id\",\"active_column\":\"status\"},"
                + "\"safety\":{\"max_destructive_percent\":100},"
                + "\"mapping\":[{\"target\":\"username\",\"source\":\"user\"},{\"target\":\"email\",\"source\":\"mail\"}]}]}";
    }

    JiraApp node(String name, FakeScheduler scheduler) {
        return node(name, scheduler, db);
    }

    /** A Data Center node: its own local home, scheduler view and lock view; the cluster's database. */
    JiraApp node(String name, FakeScheduler scheduler, com.atlassian.activeobjects.external.ActiveObjects database) {
        return new JiraApp(new FakeHome(tmp.resolve(name), tmp.resolve("shared")), database, scheduler,
                locks.node(name), events, jira, jira, jira, jira, jira, jira, jira, jira, jira.sal());
    }

    @Test
    void theAppSchedulesItsConnectorOncePerClusterAndAScheduledRunSyncs() {
        FakeScheduler scheduler = new FakeScheduler();
        app = node("node1", scheduler);
        app.onStart();
        assertNull(app.problem());
        // The configuration file went into the database, encrypted, and was set aside.
        assertFalse(Files.exists(tmp.resolve("shared/usersync/config.json")));
        assertTrue(Files.exists(tmp.resolve("shared/usersync/config.json.imported")));
        assertTrue(db.rows(org.usersync.atlassian.ao.StateDoc.class).stream().anyMatch(r -> "config".equals(
                r.get("TABLE_NAME")) && ((String) r.get("DOC_VALUE")).startsWith("v1:")), "the stored configuration");
        JobConfig job = scheduler.jobs().get(JOB);
        assertNotNull(job, scheduler.jobs().toString());
        assertEquals(RunMode.RUN_ONCE_PER_CLUSTER, job.getRunMode());
        assertEquals("0 0 2 * * ?", job.getSchedule().getCronScheduleInfo().getCronExpression());
        JobRunnerResponse r = scheduler.fire(JOB);
        assertEquals(RunOutcome.SUCCESS, r.getRunOutcome(), r.getMessage());
        assertTrue(r.getMessage().contains("DONE"), r.getMessage());
        assertNotNull(jira.getUserByName("dave"));
        app.onStop();
        assertNull(scheduler.fire(JOB), "a disabled app must not run jobs");
        assertEquals(0, events.listenerCount());
        assertEquals("stopped", app.problem());
        app = null;
    }

    @Test
    void withoutAConfigurationTheAppStartsWithNoConnectorsAndThePageMakesOneForEveryNode() throws Exception {
        Files.delete(tmp.resolve("shared/usersync/config.json"));
        FakeScheduler scheduler = new FakeScheduler();
        app = node("node1", scheduler);
        app.onStart();
        assertNull(app.problem());
        assertTrue(scheduler.jobs().isEmpty(), scheduler.jobs().toString());
        String login = app.beforeLogin("admin");
        assertTrue(login != null && login.contains("\"allow\":true") && login.contains("no connector is configured"),
                "before the first connector every login is the application's own: " + login);
        JiraApp node2 = node("node2", new FakeScheduler());
        node2.onStart();
        try {
            AdminServlet servlet = adminServlet(app);
            String whole = config();
            String connector = whole.substring(whole.indexOf("[{") + 1, whole.lastIndexOf(']'));
            ServletsAccess.Result made = ServletsAccess.call(servlet, "s-admin", "PUT", "/api/1/connectors/people",
                    Map.of("X-Atlassian-Token", "no-check"), connector);
            assertEquals(201, made.status(), made.body());
            // The change reached Atlassian Scheduler at once ...
            assertEquals("0 0 2 * * ?", scheduler.jobs().get(JOB).getSchedule().getCronScheduleInfo()
                    .getCronExpression());
            // ... and the other node runs the stored configuration, not the empty one it started with.
            assertTrue(node2.engine().schedules().contains("people"), node2.engine().schedules());
            String report = node2.runScheduled("people", "full");
            assertTrue(report.contains("DONE"), report);
            assertNotNull(jira.getUserByName("dave"));
        } finally {
            node2.onStop();
        }
    }

    static String basic(String user) {
        return "Basic " + Base64.getEncoder().encodeToString((user + ":secret").getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theLoginHookReactivatesWhomTheSyncDisabledAndNotWhomAnAdministratorDisabled() throws Exception {
        FakeScheduler scheduler = new FakeScheduler();
        app = node("node1", scheduler);
        app.onStart();
        assertEquals(RunOutcome.SUCCESS, scheduler.fire(JOB).getRunOutcome());
        people("ann,active", "bob,inactive", "carol,active", "dave,inactive");
        assertEquals(RunOutcome.SUCCESS, scheduler.fire(JOB).getRunOutcome());
        assertFalse(jira.getUserByName("bob").isActive());
        assertFalse(jira.getUserByName("dave").isActive());
        jira.deactivateByHand(jira.getUserByName("carol").getKey());
        // At the IdP, bob and dave are back; nobody has run a sync since.
        people("ann,active", "bob,active", "carol,active", "dave,active");
        LoginFilter filter = new LoginFilter(app);

        ServletsAccess.Chain form = ServletsAccess.chain();
        filter.doFilter(ServletsAccess.request("POST", "/login.jsp",
                Map.of("Content-Type", "application/x-www-form-urlencoded"), Map.of("os_username", "bob"), new byte[0]),
                null, form);
        assertTrue(jira.getUserByName("bob").isActive(), "form login");
        assertNotNull(form.passed());

        byte[] session = "{\"username\":\"dave\",\"password\":\"x\"}".getBytes(StandardCharsets.UTF_8);
        ServletsAccess.Chain rest = ServletsAccess.chain();
        filter.doFilter(ServletsAccess.request("POST", "/jira/rest/auth/1/session",
                Map.of("Content-Type", "application/json"), Map.of(), session), null, rest);
        assertTrue(jira.getUserByName("dave").isActive(), "REST session login");
        assertEquals(new String(session, StandardCharsets.UTF_8), new String(rest.bodySeen(), StandardCharsets.UTF_8),
                "the application must read the body the filter read");

        ServletsAccess.Chain basic = ServletsAccess.chain();
        filter.doFilter(ServletsAccess.request("GET", "/rest/api/2/myself", Map.of("Authorization", basic("carol")),
                Map.of(), new byte[0]), null, basic);
        assertFalse(jira.getUserByName("carol").isActive(), "an administrator's deactivation stands");
        assertNotNull(basic.passed(), "the filter never blocks a request");
    }

    @Test
    void theLoginFilterPassesTheHeadersTheLoginRoutesCompare() throws Exception {
        Path partners = tmp.resolve("partners.csv");
        Files.writeString(partners, "id,user,mail,status\n1,paula,paula@partner.example,active\n");
        String two = config().replace("\"schedule\":\"0 0 2 * * ?\",", "\"provision_on_login\":true,\"priority\":5,")
                .replace("]}]}", "]},{\"id\":\"partners\",\"type\":\"csv\",\"provision_on_login\":true,"
                        + "\"source\":{\"path\":\"" + partners + "\",\"id_column\":\"id\"},"
                        + "\"mapping\":[{\"target\":\"username\",\"source\":\"user\"},"
                        + "{\"target\":\"email\",\"source\":\"mail\"}]}],"
                        + "\"login\":{\"routes\":[{\"attribute\":\"header:X-Idp\",\"equals\":\"partners\","
                        + "\"connector\":\"partners\"}]}}");
        new FakeHome(tmp.resolve("node1"), tmp.resolve("shared")).configure(two, "jira.acting.user=admin\n");
        app = node("node1", new FakeScheduler());
        app.onStart();
        assertNull(app.problem());
        assertEquals(java.util.List.of("header:X-Idp"), app.engine().loginAttributes());
        LoginFilter filter = new LoginFilter(app);
        Map<String, String> form = Map.of("Content-Type", "application/x-www-form-urlencoded");
        // Without the header the higher-priority connector answers, and it does not have paula.
        filter.doFilter(ServletsAccess.request("POST", "/login.jsp", form, Map.of("os_username", "paula"), new byte[0]),
                null, ServletsAccess.chain());
        assertNull(jira.getUserByName("paula"));
        // With it, the partners connector answers and provisions her just in time.
        Map<String, String> routed = Map.of("Content-Type", "application/x-www-form-urlencoded", "X-Idp", "Partners");
        filter.doFilter(ServletsAccess.request("POST", "/login.jsp", routed, Map.of("os_username", "paula"),
                new byte[0]), null, ServletsAccess.chain());
        assertNotNull(jira.getUserByName("paula"));
        assertTrue(jira.getUserByName("paula").isActive());
    }

    @Test
    void theLoginHookNeverStandsInTheWayWhenTheEngineIsNotRunning() throws Exception {
        Files.delete(tmp.resolve("shared/usersync/config.json"));
        app = node("node1", new FakeScheduler());
        app.onStart();
        ServletsAccess.Chain chain = ServletsAccess.chain();
        new LoginFilter(app).doFilter(ServletsAccess.request("GET", "/", Map.of("Authorization", "Basic %%%"), Map.of(),
                new byte[0]), null, chain);
        assertNotNull(chain.passed());
    }

    @Test
    void aLoginEventRefreshesTheUserOnlyWhenConfigured() throws Exception {
        new FakeHome(tmp.resolve("node1"), tmp.resolve("shared")).configure(config(),
                "jira.acting.user=admin\nsync.on.login=true\n");
        app = node("node1", new FakeScheduler());
        app.onStart();
        assertNull(jira.getUserByName("ann"));
        String key = jira.addUser("ann", "Ann", "ann@example.com");
        events.publish(new LoginEvent(jira.getUserByKey(key)));
        for (int i = 0; i < 100 && !app.engine().history(5).contains("\"trigger\":\"login\""); i++) {
            Thread.sleep(50);
        }
        assertTrue(app.engine().history(5).contains("\"trigger\":\"login\""), app.engine().history(5));
    }

    @Test
    void twoNodesFireTheSameJobAndOneRunsWhileTheOtherIsSkipped() throws Exception {
        Map<JobId, JobConfig> cluster = new TreeMap<>();
        FakeScheduler s1 = new FakeScheduler(cluster);
        FakeScheduler s2 = new FakeScheduler(cluster);
        JiraApp n1 = node("node1", s1);
        JiraApp n2 = node("node2", s2);
        n1.onStart();
        n2.onStart();
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        jira.beforeCreate = name -> {
            inside.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        try {
            CompletableFuture<JobRunnerResponse> first = CompletableFuture.supplyAsync(() -> s1.fire(JOB));
            assertTrue(inside.await(30, TimeUnit.SECONDS));
            JobRunnerResponse second = s2.fire(JOB);
            assertEquals(RunOutcome.ABORTED, second.getRunOutcome(), second.getMessage());
            assertTrue(second.getMessage().contains("skipped"), second.getMessage());
            release.countDown();
            assertEquals(RunOutcome.SUCCESS, first.get(60, TimeUnit.SECONDS).getRunOutcome());
            String history = n2.engine().history(5);
            assertTrue(history.contains("\"SKIPPED\"") && history.contains("\"DONE\""), history);
        } finally {
            release.countDown();
            n1.onStop();
            n2.onStop();
        }
    }

    @Test
    void whenTheNodeRunningASyncDiesTheOtherTakesOverAfterTheLease() throws Exception {
        Map<JobId, JobConfig> cluster = new TreeMap<>();
        FakeScheduler s1 = new FakeScheduler(cluster);
        FakeScheduler s2 = new FakeScheduler(cluster);
        CuttableActiveObjects db1 = new CuttableActiveObjects(db);
        JiraApp n1 = node("node1", s1, db1);
        JiraApp n2 = node("node2", s2);
        n1.onStart();
        n2.onStart();
        CountDownLatch inside = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);
        jira.beforeCreate = name -> {
            // node1's first creation is where it dies; node2's creations pass.
            if (first.getAndSet(false)) {
                inside.countDown();
                try {
                    release.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                // A dead node writes nothing more.
                throw new IllegalStateException("node1 is dead");
            }
        };
        try {
            CompletableFuture.runAsync(() -> s1.fire(JOB));
            assertTrue(inside.await(30, TimeUnit.SECONDS), "node1's run started");
            // node1 dies: it reaches neither the database nor the cluster any more.
            db1.cut();
            locks.kill("node1");
            Thread.sleep(3000);
            JobRunnerResponse r = s2.fire(JOB);
            assertEquals(RunOutcome.SUCCESS, r.getRunOutcome(), r.getMessage());
            assertTrue(r.getMessage().contains("DONE"), r.getMessage());
            for (String u : new String[] {"ann", "bob", "carol", "dave"}) {
                assertNotNull(jira.getUserByName(u), u + " was synced by node2");
            }
            String history = n2.engine().history(5);
            assertTrue(history.contains("interrupted"), history);
        } finally {
            release.countDown();
            n1.onStop();
            n2.onStop();
        }
    }

    /** The admin servlet over {@code app}, with two signed-in sessions: s-admin (a system administrator) and
     * s-viewer (not one). */
    AdminServlet adminServlet(JiraApp app) {
        if (jira.getUserByName("viewer") == null) {
            jira.addUser("viewer", "Viewer", "viewer@example.com");
        }
        Map<String, UserProfile> sessions = Map.of("s-admin", profile("admin"), "s-viewer", profile("viewer"));
        UserManager sal = new UserManager() {
            public UserProfile getRemoteUser(HttpServletRequest request) {
                String cookie = request.getHeader("Cookie");
                return cookie == null ? null : sessions.get(cookie);
            }

            public boolean isSystemAdmin(UserKey key) {
                return jira.getGroupNamesForUser(jira.getUserByKey(key.getStringValue())).contains(FakeJira.SYSADMINS);
            }

            public boolean isAdmin(UserKey key) {
                return isSystemAdmin(key);
            }
        };
        return new AdminServlet(app, sal, ret -> URI.create("/login.jsp?os_destination=" + ret));
    }

    @Test
    void theAdminPageIsForSystemAdministratorsOnly() throws Exception {
        app = node("node1", new FakeScheduler());
        app.onStart();
        AdminServlet servlet = adminServlet(app);
        assertEquals(302, ServletsAccess.get(servlet, null).status());
        assertEquals(401, ServletsAccess.call(servlet, null, "GET", "/api/1/connectors", Map.of(), "").status());
        assertEquals(403, ServletsAccess.get(servlet, "s-viewer").status());
        assertEquals(403, ServletsAccess.call(servlet, "s-viewer", "GET", "/api/1/connectors", Map.of(), "").status());
        ServletsAccess.Result page = ServletsAccess.get(servlet, "s-admin");
        assertEquals(200, page.status());
        assertTrue(page.body().contains("<title>usersync</title>"), page.body());
        assertTrue(page.headers().get("Content-Security-Policy").contains("script-src 'self'"));
        // The same API as usersync serve, through the engine's handlers.
        ServletsAccess.Result list = ServletsAccess.call(servlet, "s-admin", "GET", "/api/1/connectors", Map.of(), "");
        assertEquals(200, list.status(), list.body());
        assertTrue(list.body().contains("\"id\":\"people\""), list.body());
        assertEquals("nosniff", list.headers().get("X-Content-Type-Options"));
        String run = "{\"connector\":\"people\",\"simulate\":true}";
        assertEquals(403, ServletsAccess.call(servlet, "s-admin", "POST", "/api/1/runs", Map.of(), run).status(),
                "a change without the XSRF header");
        Map<String, String> xsrf = Map.of("X-Atlassian-Token", "no-check");
        assertEquals(403, ServletsAccess.call(servlet, "s-admin", "POST", "/api/1/runs",
                Map.of("X-Atlassian-Token", "no-check", "Origin", "http://evil.example"), run).status());
        ServletsAccess.Result started = ServletsAccess.call(servlet, "s-admin", "POST", "/api/1/runs", xsrf, run);
        assertEquals(202, started.status(), started.body());
        ServletsAccess.Result history = ServletsAccess.call(servlet, "s-admin", "GET", "/api/1/runs?limit=1", Map.of(), "");
        assertTrue(history.body().contains("\"runs\""), history.body());
    }

    UserProfile profile(String username) {
        String key = jira.getUserByName(username) == null ? "nobody" : jira.getUserByName(username).getKey();
        return new UserProfile() {
            public UserKey getUserKey() { return new UserKey(key); }

            public String getUsername() { return username; }
        };
    }
}
