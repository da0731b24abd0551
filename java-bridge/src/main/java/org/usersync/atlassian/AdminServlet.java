package org.usersync.atlassian;

import com.atlassian.sal.api.auth.LoginUriProvider;
import com.atlassian.sal.api.user.UserManager;
import com.atlassian.sal.api.user.UserProfile;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.usersync.Engine;

/**
 * The admin page, for system administrators only (the application's own check through SAL). Until
 * the admin console lands it is a status page: whether the engine runs, its schedules and its
 * recent runs. Everything shown that came from outside is escaped as text.
 */
public final class AdminServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;

    private final transient UsersyncApp app;
    private final transient UserManager users;
    private final transient LoginUriProvider loginUris;

    public AdminServlet(UsersyncApp app, UserManager users, LoginUriProvider loginUris) {
        this.app = app;
        this.users = users;
        this.loginUris = loginUris;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse res) throws IOException {
        UserProfile user = users.getRemoteUser(req);
        if (user == null) {
            res.sendRedirect(loginUris.getLoginUri(URI.create(req.getRequestURI())).toASCIIString());
            return;
        }
        if (!users.isSystemAdmin(user.getUserKey())) {
            res.sendError(HttpServletResponse.SC_FORBIDDEN, "usersync is for system administrators");
            return;
        }
        res.setContentType("text/html;charset=UTF-8");
        res.setHeader("X-Content-Type-Options", "nosniff");
        res.setHeader("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'");
        Engine engine = app.engine();
        PrintWriter out = res.getWriter();
        out.println("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>usersync</title>"
                + "<meta name=\"decorator\" content=\"atl.admin\"></head><body><h1>usersync</h1>");
        if (engine == null) {
            out.println("<p>The engine is not running: " + Html.text(app.problem()) + "</p>");
        } else {
            out.println("<p>The engine is running (library ABI " + Engine.abiVersion() + "). The admin console "
                    + "arrives with a later release; until then, edit the configuration file and use the CLI "
                    + "to simulate.</p>");
            out.println("<h2>Schedules</h2><pre>" + Html.text(engine.schedules()) + "</pre>");
            out.println("<h2>Recent runs</h2><pre>" + Html.text(engine.history(20)) + "</pre>");
        }
        out.println("</body></html>");
    }
}
