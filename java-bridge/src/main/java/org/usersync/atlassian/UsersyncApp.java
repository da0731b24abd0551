package org.usersync.atlassian;

import com.atlassian.activeobjects.external.ActiveObjects;
import com.atlassian.beehive.ClusterLockService;
import com.atlassian.event.api.EventPublisher;
import com.atlassian.sal.api.ApplicationProperties;
import com.atlassian.sal.api.lifecycle.LifecycleAware;
import com.atlassian.scheduler.SchedulerService;
import com.atlassian.scheduler.SchedulerServiceException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.usersync.Directory;
import org.usersync.Engine;
import org.usersync.atlassian.ao.AoStateTables;
import org.usersync.atlassian.ao.SecretBox;

/**
 * The app inside Jira or Confluence, whichever: it starts the engine when the plugin is enabled
 * (its state in the application's database through Active Objects, checked first against the
 * store contract; the configuration in the shared home; the library copied under the local home),
 * hands the schedules to Atlassian Scheduler, answers the login hook, and on disable stops runs,
 * closes the engine and clears the log sink so that the plugin's class loader can go. The
 * subclass for each application only builds the {@link Directory}.
 *
 * <p>Nothing here throws into the application: a failure to start is kept and shown on the
 * admin page, and the login hook lets the application's own login go on whatever happens.
 */
public abstract class UsersyncApp implements LifecycleAware {
    private static final Logger LOG = LoggerFactory.getLogger(UsersyncApp.class);

    private final ApplicationProperties applicationProperties;
    private final ActiveObjects ao;
    private final ClusterLockService clusterLocks;
    private final EventPublisher events;
    private final SyncJobs jobs;
    private final Locks locks;
    private Engine engine;
    private String problem = "not started";
    private boolean syncOnLogin;

    /**
     * The subclass receives the application's login event through an {@code @EventListener}
     * method: the app registers itself with {@code events} while it runs.
     */
    protected UsersyncApp(ApplicationProperties applicationProperties, ActiveObjects ao, SchedulerService scheduler,
            ClusterLockService clusterLocks, EventPublisher events) {
        this.applicationProperties = applicationProperties;
        this.events = events;
        this.ao = ao;
        this.clusterLocks = clusterLocks;
        this.locks = new ClusterLocks(clusterLocks);
        this.jobs = new SyncJobs(scheduler, this);
    }

    /** The application's directory, with the app's settings (app.properties) and the cluster locks. */
    protected abstract Directory directory(Properties settings, Locks locks);

    @Override
    public synchronized void onStart() {
        if (engine != null) {
            return;
        }
        events.register(this);
        try {
            AppHome home = AppHome.of(applicationProperties);
            Engine.useNativeDirectory(home.nativeDir());
            Properties settings = home.settings();
            syncOnLogin = Boolean.parseBoolean(settings.getProperty("sync.on.login", "false"));
            Engine.setLogSink(UsersyncApp::log, Engine.Level.INFO);
            AoStateTables tables = new AoStateTables(ao, clusterLocks, SecretBox.open(home.secretKey()));
            Engine.checkStateTables(tables);
            Directory directory = directory(settings, locks);
            if (Files.exists(home.config())) {
                // A configuration file is imported into the database (secrets encrypted there) and
                // set aside, so that every node runs the stored one.
                String config = Files.readString(home.config(), StandardCharsets.UTF_8);
                engine = new Engine(tables, config, home.shared(), directory);
                engine.importConfig(config, home.shared());
                try {
                    Files.move(home.config(), home.importedConfig(), StandardCopyOption.REPLACE_EXISTING);
                } catch (java.nio.file.NoSuchFileException e) {
                    // Another node imported the same file at the same time and moved it first.
                }
                LOG.info("usersync imported {} into the database and moved it to {}", home.config(),
                        home.importedConfig());
            } else {
                // Nothing stored yet: no connectors until the admin page (or a config.json in
                // the shared home at the next start) makes them.
                engine = Engine.fromStoreOrEmpty(tables, home.shared(), directory);
            }
            jobs.register();
            jobs.schedule(engine.schedules());
            problem = null;
            LOG.info("usersync started (library ABI {})", Engine.abiVersion());
        } catch (IOException | SchedulerServiceException | RuntimeException | LinkageError e) {
            problem = "could not start: " + e.getMessage();
            LOG.error("usersync {}", problem, e);
            stopEngine();
        }
    }

    @Override
    public synchronized void onStop() {
        events.unregister(this);
        jobs.unregister();
        stopEngine();
        problem = "stopped";
    }

    private void stopEngine() {
        if (engine != null) {
            engine.close();
            engine = null;
        }
        try {
            Engine.clearLogSink();
        } catch (LinkageError e) {
            // The library never loaded: there is no sink to clear.
        }
    }

    private static void log(String level, String target, String message) {
        switch (level) {
            case "ERROR" -> LOG.error("{}: {}", target, message);
            case "WARN" -> LOG.warn("{}: {}", target, message);
            case "INFO" -> LOG.info("{}: {}", target, message);
            default -> LOG.debug("{}: {}", target, message);
        }
    }

    /**
     * After the admin page changed the configuration: Atlassian Scheduler gets the new schedules
     * (its jobs are the cluster's, so the node that made the change updates them for all).
     */
    public void configurationChanged() {
        Engine e = engine();
        if (e == null) {
            return;
        }
        try {
            jobs.schedule(e.schedules());
        } catch (SchedulerServiceException | RuntimeException ex) {
            LOG.error("usersync could not schedule the changed configuration's runs: {}", ex.getMessage());
        }
    }

    /** The request headers the login routes compare, as {@code header:Name} → value. */
    Map<String, String> loginAttributes(javax.servlet.http.HttpServletRequest request) {
        Engine e = engine();
        if (e == null) {
            return Map.of();
        }
        Map<String, String> found = new java.util.HashMap<>();
        for (String name : e.loginAttributes()) {
            if (name.regionMatches(true, 0, "header:", 0, 7)) {
                String value = request.getHeader(name.substring(7));
                if (value != null) {
                    found.put(name, value);
                }
            }
        }
        return found;
    }

    /** The engine, or null with {@link #problem()} saying why. */
    public synchronized Engine engine() {
        return engine;
    }

    /** Why the engine is not running; null when it is. */
    public synchronized String problem() {
        return problem;
    }

    /**
     * The login hook, before the application checks the credential: a user the sync disabled who
     * is active in the source is reactivated now, so this login succeeds. Returns the engine's
     * decision, or null when there is none; never throws.
     */
    public String beforeLogin(String username) {
        return beforeLogin(username, Map.of());
    }

    /**
     * {@link #beforeLogin(String)} with what the request says that {@code login.routes} compare
     * (the headers {@link Engine#loginAttributes()} names, as {@code header:Name}).
     */
    public String beforeLogin(String username, Map<String, String> attributes) {
        Engine e = engine();
        if (e == null || username == null || username.isEmpty()) {
            return null;
        }
        try {
            String decision = e.onLogin(null, username, attributes);
            LOG.debug("login of {}: {}", username, decision);
            return decision;
        } catch (RuntimeException ex) {
            LOG.warn("usersync's login hook failed for {}: {}", username, ex.getMessage());
            return null;
        }
    }

    /**
     * After a successful login (the application's login event): when {@code sync.on.login} is set
     * in app.properties, the user's data is refreshed from the source in the background.
     */
    public void afterLogin(String username) {
        Engine e = engine();
        boolean refresh;
        synchronized (this) {
            refresh = syncOnLogin;
        }
        if (e == null || !refresh || username == null) {
            return;
        }
        try {
            e.start("{\"mode\":\"single_user\",\"user\":" + quote(username) + ",\"trigger\":\"login\"}");
        } catch (RuntimeException ex) {
            LOG.debug("no refresh at the login of {}: {}", username, ex.getMessage());
        }
    }

    /** A scheduled run (Atlassian Scheduler calls it on one node): the run's report. */
    public String runScheduled(String connector, String kind) {
        Engine e = engine();
        if (e == null) {
            throw new IllegalStateException("usersync is " + problem());
        }
        return e.run("{\"connector\":" + quote(connector) + ",\"mode\":" + quote(kind) + ",\"trigger\":\"schedule\"}");
    }

    static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
