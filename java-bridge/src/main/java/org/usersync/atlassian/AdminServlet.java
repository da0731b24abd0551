package org.usersync.atlassian;

import com.atlassian.sal.api.auth.LoginUriProvider;
import com.atlassian.sal.api.user.UserManager;
import com.atlassian.sal.api.user.UserProfile;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.usersync.Engine;

/**
 * The admin console inside Jira or Confluence: the same page as {@code usersync serve} (from this
 * jar's {@code admin-page/}) and the same API, forwarded to the engine's handlers
 * ({@link Engine#adminCall}). Only system administrators get in (the application's own check
 * through SAL). A change must carry {@code X-Atlassian-Token: no-check}, the applications' XSRF
 * convention for such calls, and come from the application's own origin when the browser says
 * where it comes from.
 */
public final class AdminServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final int MAX_BODY = 1024 * 1024;
    private static final Map<String, String> ASSETS = Map.of("/", "index.html", "/index.html", "index.html",
            "/app.js", "app.js", "/editor.js", "editor.js", "/app.css", "app.css");
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            + "img-src 'self' data:; form-action 'none'; frame-ancestors 'self'; base-uri 'none'";

    private final transient UsersyncApp app;
    private final transient UserManager users;
    private final transient LoginUriProvider loginUris;

    public AdminServlet(UsersyncApp app, UserManager users, LoginUriProvider loginUris) {
        this.app = app;
        this.users = users;
        this.loginUris = loginUris;
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse res) throws IOException {
        String path = req.getPathInfo() == null ? "" : req.getPathInfo();
        boolean api = path.startsWith("/api/1/") || path.equals("/api/1");
        UserProfile user = users.getRemoteUser(req);
        if (user == null) {
            if (api) {
                send(res, 401, "application/json", "{\"error\":\"sign in to the application first\"}", null);
            } else {
                res.sendRedirect(loginUris.getLoginUri(URI.create(req.getRequestURI())).toASCIIString());
            }
            return;
        }
        if (!users.isSystemAdmin(user.getUserKey())) {
            res.sendError(HttpServletResponse.SC_FORBIDDEN, "usersync is for system administrators");
            return;
        }
        if (api) {
            api(req, res, path.substring("/api/1".length()), user);
        } else if (path.isEmpty()) {
            // The page's links are relative: it lives at .../admin/.
            res.sendRedirect(req.getRequestURI() + "/");
        } else {
            asset(res, path);
        }
    }

    private void api(HttpServletRequest req, HttpServletResponse res, String path, UserProfile user)
            throws IOException {
        String method = req.getMethod();
        boolean change = !method.equals("GET") && !method.equals("HEAD");
        if (change && !"no-check".equals(req.getHeader("X-Atlassian-Token"))) {
            send(res, 403, "application/json", "{\"error\":\"a change needs the header X-Atlassian-Token: no-check\"}",
                    null);
            return;
        }
        String origin = req.getHeader("Origin");
        if (change && origin != null && !origin.equals(ownOrigin(req))) {
            send(res, 403, "application/json", "{\"error\":\"a change from another origin is refused\"}", null);
            return;
        }
        if (path.equals("/session")) {
            send(res, 200, "application/json", "{\"csrf\":null,\"user\":" + quote(user.getUsername()) + "}", null);
            return;
        }
        Engine engine = app.engine();
        if (engine == null) {
            send(res, 503, "application/json", "{\"error\":" + quote("usersync is " + app.problem()) + "}", null);
            return;
        }
        byte[] body = req.getInputStream().readNBytes(MAX_BODY + 1);
        if (body.length > MAX_BODY) {
            send(res, 413, "application/json", "{\"error\":\"the request body is larger than 1 MiB\"}", null);
            return;
        }
        Engine.AdminAnswer a = engine.adminCall(method, path, req.getQueryString(),
                new String(body, StandardCharsets.UTF_8));
        if (change && a.status() < 300 && (path.startsWith("/connectors") || path.equals("/config"))) {
            app.configurationChanged();
        }
        send(res, a.status(), a.contentType(), a.body(), a.filename());
    }

    private static String ownOrigin(HttpServletRequest req) {
        int port = req.getServerPort();
        boolean usual = (req.getScheme().equals("http") && port == 80) || (req.getScheme().equals("https") && port == 443);
        return req.getScheme() + "://" + req.getServerName() + (usual ? "" : ":" + port);
    }

    private void asset(HttpServletResponse res, String path) throws IOException {
        String name = ASSETS.get(path);
        InputStream in = name == null ? null : AdminServlet.class.getResourceAsStream("/admin-page/" + name);
        if (in == null) {
            send(res, 404, "application/json", "{\"error\":\"not found\"}", null);
            return;
        }
        String type = name.endsWith(".js") ? "text/javascript" : name.endsWith(".css") ? "text/css" : "text/html";
        try (in) {
            res.setHeader("Content-Security-Policy", CSP);
            send(res, 200, type + ";charset=UTF-8", new String(in.readAllBytes(), StandardCharsets.UTF_8), null);
        }
    }

    private static void send(HttpServletResponse res, int status, String type, String body, String filename)
            throws IOException {
        res.setStatus(status);
        res.setContentType(type);
        res.setHeader("X-Content-Type-Options", "nosniff");
        res.setHeader("Cache-Control", "no-store");
        if (filename != null) {
            res.setHeader("Content-Disposition", "attachment; filename=\"" + filename.replace("\"", "") + "\"");
        }
        res.getWriter().write(body);
    }

    private static String quote(String s) {
        return UsersyncApp.quote(s == null ? "" : s);
    }
}
