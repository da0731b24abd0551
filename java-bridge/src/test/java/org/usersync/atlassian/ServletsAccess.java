package org.usersync.atlassian;

import java.io.IOException;
import java.util.Map;
import javax.servlet.ServletRequest;
import javax.servlet.http.HttpServlet;
import javax.servlet.http.HttpServletRequest;

/** {@link Servlets} for tests in other packages. */
public final class ServletsAccess {
    private ServletsAccess() {}

    public record Result(int status, String redirect, String body, Map<String, String> headers) {}

    public static HttpServletRequest request(String method, String uri, Map<String, String> headers,
            Map<String, String> params, byte[] body) {
        return Servlets.request(method, uri, headers, params, body);
    }

    public interface Chain extends javax.servlet.FilterChain {
        ServletRequest passed();

        byte[] bodySeen();
    }

    public static Chain chain() {
        Servlets.Chain c = new Servlets.Chain();
        return new Chain() {
            public void doFilter(ServletRequest req, javax.servlet.ServletResponse res) throws IOException {
                c.doFilter(req, res);
            }

            public ServletRequest passed() { return c.passed; }

            public byte[] bodySeen() { return c.bodySeen; }
        };
    }

    /** A GET of the servlet's page with the session cookie given (null: not logged in). */
    public static Result get(HttpServlet servlet, String session) throws Exception {
        return call(servlet, session, "GET", "/", Map.of(), "");
    }

    /** A call of the servlet at {@code pathInfo} (after /plugins/servlet/usersync/admin). */
    public static Result call(HttpServlet servlet, String session, String method, String pathInfo,
            Map<String, String> extraHeaders, String body) throws Exception {
        Map<String, String> headers = new java.util.TreeMap<>(extraHeaders);
        if (session != null) {
            headers.put("Cookie", session);
        }
        String path = pathInfo;
        String query = null;
        if (pathInfo != null && pathInfo.contains("?")) {
            path = pathInfo.substring(0, pathInfo.indexOf('?'));
            query = pathInfo.substring(pathInfo.indexOf('?') + 1);
        }
        HttpServletRequest req = Servlets.request(method, "/plugins/servlet/usersync/admin" + (path == null ? "" : path),
                path, query, headers, Map.of(), body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Servlets.Response res = new Servlets.Response();
        servlet.service(req, res.proxy);
        return new Result(res.status, res.redirect, res.text(), res.headers);
    }

    /** A call of the SCIM servlet at {@code pathInfo} (after /plugins/servlet/usersync/scim/v2). */
    public static Result scim(HttpServlet servlet, String token, String method, String pathInfo, String body)
            throws Exception {
        Map<String, String> headers = new java.util.TreeMap<>();
        if (token != null) {
            headers.put("Authorization", "Bearer " + token);
        }
        headers.put("Content-Type", "application/scim+json");
        String path = pathInfo;
        String query = null;
        if (pathInfo.contains("?")) {
            path = pathInfo.substring(0, pathInfo.indexOf('?'));
            query = pathInfo.substring(pathInfo.indexOf('?') + 1);
        }
        HttpServletRequest req = Servlets.request(method, "/plugins/servlet/usersync/scim/v2" + path, path, query,
                headers, Map.of(), body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
        Servlets.Response res = new Servlets.Response();
        servlet.service(req, res.proxy);
        return new Result(res.status, res.redirect, res.text(), res.headers);
    }
}
