package org.usersync.jira;

import com.atlassian.sal.api.user.UserKey;
import com.atlassian.sal.api.user.UserManager;
import com.atlassian.sal.api.user.UserProfile;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import javax.servlet.http.HttpSession;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.servlet.ServletContextHandler;
import org.eclipse.jetty.servlet.ServletHolder;
import org.usersync.atlassian.AdminServlet;
import org.usersync.atlassian.FakeClusterLocks;
import org.usersync.atlassian.FakeEvents;
import org.usersync.atlassian.FakeHome;
import org.usersync.atlassian.FakeScheduler;
import org.usersync.atlassian.ao.FakeActiveObjects;

/**
 * The plugin's admin servlet in a real servlet container (Jetty 9.4, Debian's libjetty9-java),
 * mounted where Jira mounts a plugin servlet ({@code /jira/plugins/servlet/usersync/admin/*}),
 * over the Jira app on the fake Jira with no configuration yet: the browser tests drive the
 * console here as they drive {@code usersync serve}.
 *
 * <p>Sign-in stands in for Jira's: {@code /jira/login.jsp?os_username=NAME&os_destination=PATH}
 * puts the user in the HTTP session (Jira keeps the signed-in user there too) and redirects. SAL's
 * {@code getRemoteUser} reads the session; {@code isSystemAdmin} asks the fake Jira for membership
 * of jira-administrators. "admin" is a system administrator, "viewer" is not.
 *
 * <p>Usage: {@code JiraConsoleServer WORK_DIR}; prints {@code jira console: http://127.0.0.1:PORT/jira}
 * once it listens, and serves until its standard input closes.
 */
public final class JiraConsoleServer {
    private static final String USER = "jira.console.user";

    private JiraConsoleServer() {}

    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        FakeJira jira = new FakeJira();
        jira.addUser("admin", "Jira Admin", "admin@example.com", FakeJira.SYSADMINS);
        jira.addUser("viewer", "Viewer", "viewer@example.com");
        Path shared = work.resolve("shared");
        Files.createDirectories(shared.resolve("usersync"));
        Files.writeString(shared.resolve("usersync/app.properties"), "jira.acting.user=admin\n");
        JiraApp app = new JiraApp(new FakeHome(work.resolve("node1"), shared), new FakeActiveObjects(),
                new FakeScheduler(), new FakeClusterLocks().node("node1"), new FakeEvents(), jira, jira, jira, jira,
                jira, jira, jira, jira, jira.sal());
        app.onStart();
        if (app.problem() != null) {
            throw new IllegalStateException("the app did not start: " + app.problem());
        }
        UserManager sal = new UserManager() {
            @Override
            public UserProfile getRemoteUser(HttpServletRequest request) {
                HttpSession session = request.getSession(false);
                Object name = session == null ? null : session.getAttribute(USER);
                return name == null ? null : profile(jira, (String) name);
            }

            @Override
            public boolean isSystemAdmin(UserKey key) {
                return jira.getGroupNamesForUser(jira.getUserByKey(key.getStringValue())).contains(FakeJira.SYSADMINS);
            }

            @Override
            public boolean isAdmin(UserKey key) {
                return isSystemAdmin(key);
            }
        };
        Server server = new Server(new InetSocketAddress("127.0.0.1", 0));
        ServletContextHandler context = new ServletContextHandler(ServletContextHandler.SESSIONS);
        context.setContextPath("/jira");
        context.addServlet(new ServletHolder(new AdminServlet(app, sal,
                back -> URI.create("/jira/login.jsp?os_destination=" + URLEncoder.encode(back.toString(),
                        StandardCharsets.UTF_8)))), "/plugins/servlet/usersync/admin/*");
        context.addServlet(new ServletHolder(new Login(jira)), "/login.jsp");
        server.setHandler(context);
        server.start();
        int port = ((ServerConnector) server.getConnectors()[0]).getLocalPort();
        System.out.println("jira console: http://127.0.0.1:" + port + "/jira");
        System.out.flush();
        while (System.in.read() >= 0) {
            // Serves until the test closes standard input.
        }
        server.stop();
        app.onStop();
    }

    static UserProfile profile(FakeJira jira, String username) {
        var user = jira.getUserByName(username);
        if (user == null) {
            return null;
        }
        return new UserProfile() {
            @Override
            public UserKey getUserKey() {
                return new UserKey(user.getKey());
            }

            @Override
            public String getUsername() {
                return username;
            }
        };
    }

    /** Jira's login page, reduced to what the tests need: the user named is signed in. */
    private static final class Login extends HttpServlet {
        private static final long serialVersionUID = 1L;
        private final transient FakeJira jira;

        Login(FakeJira jira) {
            this.jira = jira;
        }

        @Override
        protected void doGet(HttpServletRequest req, HttpServletResponse res) throws IOException {
            String name = req.getParameter("os_username");
            if (name == null || jira.getUserByName(name) == null) {
                res.sendError(HttpServletResponse.SC_UNAUTHORIZED, "no such user");
                return;
            }
            req.getSession(true).setAttribute(USER, name);
            String back = req.getParameter("os_destination");
            res.sendRedirect(back == null || !back.startsWith("/jira/") ? "/jira/" : back);
        }
    }
}
