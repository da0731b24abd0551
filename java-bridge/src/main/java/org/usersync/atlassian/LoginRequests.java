package org.usersync.atlassian;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.servlet.http.HttpServletRequest;

/**
 * The username a request is about to authenticate, for the three ways Jira and Confluence take
 * a credential: the login form (a POST with {@code os_username}, the field both applications'
 * login forms and their documented form-login endpoints use), HTTP Basic authentication on any
 * request, and a REST session ({@code POST /rest/auth/1/session} with a JSON body holding
 * {@code username}). Anything else is not a login: null.
 */
final class LoginRequests {
    /** REST session bodies are tiny; a larger one is not read. */
    static final int MAX_BODY = 64 * 1024;
    private static final Pattern JSON_USERNAME = Pattern.compile("\"username\"\\s*:\\s*\"((?:[^\"\\\\]|\\\\.)*)\"");

    private LoginRequests() {}

    static boolean isRestSession(HttpServletRequest request) {
        return "POST".equals(request.getMethod()) && path(request).endsWith("/rest/auth/1/session");
    }

    static String path(HttpServletRequest request) {
        String uri = request.getRequestURI();
        return uri == null ? "" : uri;
    }

    /** The username from Basic credentials or the login form; null when there is none. */
    static String fromHeadersOrForm(HttpServletRequest request) {
        String header = request.getHeader("Authorization");
        if (header != null && header.regionMatches(true, 0, "Basic ", 0, 6)) {
            try {
                byte[] decoded = Base64.getDecoder().decode(header.substring(6).trim());
                String pair = new String(decoded, StandardCharsets.UTF_8);
                int colon = pair.indexOf(':');
                return colon > 0 ? pair.substring(0, colon) : null;
            } catch (IllegalArgumentException e) {
                return null;
            }
        }
        String type = request.getContentType();
        if ("POST".equals(request.getMethod()) && type != null
                && type.toLowerCase(Locale.ROOT).startsWith("application/x-www-form-urlencoded")) {
            String name = request.getParameter("os_username");
            return name == null || name.isBlank() ? null : name.trim();
        }
        return null;
    }

    /** The username of a REST session request's JSON body; null when there is none. */
    static String fromSessionBody(byte[] body) {
        Matcher m = JSON_USERNAME.matcher(new String(body, StandardCharsets.UTF_8));
        if (!m.find()) {
            return null;
        }
        String name = m.group(1).replace("\\\"", "\"").replace("\\\\", "\\");
        return name.isBlank() ? null : name;
    }
}
