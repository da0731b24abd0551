package org.usersync.atlassian;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;
import org.usersync.Engine;

/**
 * The SCIM endpoint IdPs push to, inside Jira or Confluence:
 * {@code <base>/plugins/servlet/usersync/scim/v2}. It carries the request to the engine
 * ({@link Engine#scimCall}), which checks the bearer token of a {@code scim-inbound} connector and
 * answers with the same handlers {@code usersync serve} uses; no application session is involved.
 */
public final class ScimServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final int MAX_BODY = 1024 * 1024;
    private static final String SCIM_JSON = "application/scim+json";

    private final transient UsersyncApp app;

    public ScimServlet(UsersyncApp app) {
        this.app = app;
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse res) throws IOException {
        Engine engine = app.engine();
        if (engine == null) {
            send(res, 503, error(503, "usersync is " + app.problem()));
            return;
        }
        byte[] body = req.getInputStream().readNBytes(MAX_BODY + 1);
        if (body.length > MAX_BODY) {
            send(res, 413, error(413, "the request body is larger than " + MAX_BODY + " bytes"));
            return;
        }
        String path = req.getPathInfo() == null ? "" : req.getPathInfo();
        String url = req.getRequestURL().toString();
        String base = path.isEmpty() ? url : url.substring(0, url.length() - path.length());
        Engine.ScimAnswer a = engine.scimCall(base, req.getHeader("Authorization"), req.getMethod(), path,
                req.getQueryString(), new String(body, StandardCharsets.UTF_8));
        if (a.location() != null) {
            res.setHeader("Location", a.location());
        }
        if (a.challenge()) {
            res.setHeader("WWW-Authenticate", "Bearer realm=\"usersync SCIM\"");
        }
        send(res, a.status(), a.body());
    }

    private static String error(int status, String detail) {
        return "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],\"status\":\"" + status
                + "\",\"detail\":" + UsersyncApp.quote(detail) + "}";
    }

    private static void send(HttpServletResponse res, int status, String body) throws IOException {
        res.setStatus(status);
        res.setHeader("Cache-Control", "no-store");
        if (body != null) {
            res.setContentType(SCIM_JSON + ";charset=UTF-8");
            res.getWriter().write(body);
        }
    }
}
