package org.usersync.jira;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.atlassian.sal.api.lifecycle.LifecycleAware;
import com.atlassian.scheduler.JobRunnerResponse;
import com.atlassian.scheduler.config.JobId;
import com.atlassian.scheduler.status.RunOutcome;
import java.lang.ref.WeakReference;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.usersync.atlassian.FakeClusterLocks;
import org.usersync.atlassian.FakeEvents;
import org.usersync.atlassian.FakeHome;
import org.usersync.atlassian.FakeScheduler;
import org.usersync.atlassian.ao.FakeActiveObjects;

/**
 * Disabling and enabling the plugin, as Jira does on an upgrade or a re-enable: each time a new
 * class loader loads the jar (the application's own classes come from its parent, as OSGi
 * imports do), the app starts, a scheduled sync runs, the app stops — and every old class loader
 * can be collected.
 */
class PluginReloadTest {
    @TempDir
    Path tmp;

    /** The application's class loader as a plugin sees it: everything but usersync's own classes. */
    static final class Application extends ClassLoader {
        Application(ClassLoader parent) {
            super(parent);
        }

        @Override
        protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
            if (name.startsWith("org.usersync.")) {
                throw new ClassNotFoundException(name + " is the plugin's, not the application's");
            }
            return super.loadClass(name, resolve);
        }
    }

    @Test
    void threeDisableEnableCyclesEachSyncAndLeaveNoClassLoaderBehind() throws Exception {
        URL jar = Path.of(System.getProperty("usersync.jiraJar")).toUri().toURL();
        FakeJira jira = new FakeJira();
        jira.addUser("admin", "Jira Admin", "admin@example.com", FakeJira.SYSADMINS);
        FakeScheduler scheduler = new FakeScheduler();
        FakeClusterLocks locks = new FakeClusterLocks();
        FakeEvents events = new FakeEvents();
        FakeActiveObjects db = new FakeActiveObjects();
        Path csv = tmp.resolve("people.csv");
        FakeHome home = new FakeHome(tmp.resolve("local"), tmp.resolve("shared"));
        home.configure("{\"connectors\":[{\"id\":\"people\",\"type\":\"csv\",\"schedule\":\"0 0 2 * * ?\","
                + "\"source\":{\"path\":\"" + csv + "\",\"id_column\":\"id\"},\"mapping\":[{\"target\":\"username\","
                + "\"source\":\"user\"},{\"target\":\"email\",\"source\":\"mail\"}]}]}", "jira.acting.user=admin\n");
        StringBuilder people = new StringBuilder("id,user,mail\n");
        List<WeakReference<ClassLoader>> loaders = new ArrayList<>();
        for (int cycle = 1; cycle <= 3; cycle++) {
            people.append(cycle).append(",user").append(cycle).append(",user").append(cycle).append("@example.com\n");
            Files.writeString(csv, people);
            URLClassLoader loader = new URLClassLoader(new URL[] {jar}, new Application(getClass().getClassLoader()));
            Class<?> appClass = loader.loadClass("org.usersync.jira.JiraApp");
            assertNotSame(JiraApp.class, appClass, "the app must come from the plugin's own class loader");
            LifecycleAware app = (LifecycleAware) appClass.getConstructors()[0].newInstance(home, db, scheduler, locks,
                    events, jira, jira, jira, jira, jira, jira, jira, jira, jira.sal());
            app.onStart();
            JobRunnerResponse r = scheduler.fire(JobId.of("org.usersync.people.full"));
            assertNotNull(r, "cycle " + cycle + ": the job has no runner");
            assertEquals(RunOutcome.SUCCESS, r.getRunOutcome(), "cycle " + cycle + ": " + r.getMessage());
            assertNotNull(jira.getUserByName("user" + cycle), "cycle " + cycle + " synced");
            app.onStop();
            assertEquals(0, events.listenerCount());
            // From the second cycle on, the app runs on the configuration in the database.
            assertFalse(Files.exists(tmp.resolve("shared/usersync/config.json")));
            loaders.add(new WeakReference<>(loader));
            loader.close();
        }
        assertEquals(4, jira.getAllApplicationUsers().size());
        for (int i = 0; i < 50 && loaders.stream().anyMatch(w -> w.get() != null); i++) {
            System.gc();
            Thread.sleep(100);
        }
        assertTrue(loaders.stream().allMatch(w -> w.get() == null), "an old plugin class loader is still reachable");
    }
}
