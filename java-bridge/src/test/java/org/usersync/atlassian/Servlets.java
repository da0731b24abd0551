package org.usersync.atlassian;

import java.io.ByteArrayInputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.Proxy;
import java.util.Map;
import java.util.TreeMap;
import javax.servlet.FilterChain;
import javax.servlet.ReadListener;
import javax.servlet.ServletInputStream;
import javax.servlet.ServletRequest;
import javax.servlet.http.HttpServletRequest;
import javax.servlet.http.HttpServletResponse;

/**
 * Requests and responses for the filter and servlet tests, as a servlet container hands them
 * over (javax.servlet 4.0): only what the app reads is answered; anything else fails the test.
 */
final class Servlets {
    private Servlets() {}

    /** A request; {@code params} are what the container parsed from a form body. */
    static HttpServletRequest request(String method, String uri, Map<String, String> headers,
            Map<String, String> params, byte[] body) {
        return request(method, uri, null, null, headers, params, body);
    }

    /** A request to a servlet: {@code pathInfo} after the servlet's path, and a query string. */
    static HttpServletRequest request(String method, String uri, String pathInfo, String queryString,
            Map<String, String> headers, Map<String, String> params, byte[] body) {
        Map<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        h.putAll(headers);
        ByteArrayInputStream in = new ByteArrayInputStream(body);
        ServletInputStream stream = new ServletInputStream() {
            public int read() { return in.read(); }

            public boolean isFinished() { return in.available() == 0; }

            public boolean isReady() { return true; }

            public void setReadListener(ReadListener l) { throw new UnsupportedOperationException(); }
        };
        return (HttpServletRequest) Proxy.newProxyInstance(Servlets.class.getClassLoader(),
                new Class<?>[] {HttpServletRequest.class}, (proxy, m, args) -> switch (m.getName()) {
                    case "getMethod" -> method;
                    case "getRequestURI" -> uri;
                    case "getRequestURL" -> new StringBuffer("http://jira.example.com:8080" + uri);
                    case "getPathInfo" -> pathInfo;
                    case "getQueryString" -> queryString;
                    case "getScheme" -> "http";
                    case "getServerName" -> "jira.example.com";
                    case "getServerPort" -> 8080;
                    case "getHeader" -> h.get((String) args[0]);
                    case "getContentType" -> h.get("Content-Type");
                    case "getContentLengthLong" -> (long) body.length;
                    case "getContentLength" -> body.length;
                    case "getParameter" -> params.get((String) args[0]);
                    case "getInputStream" -> stream;
                    case "getCharacterEncoding" -> null;
                    case "getAttribute" -> null;
                    case "toString" -> method + " " + uri;
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException("the test request has no " + m.getName());
                });
    }

    /** What a response received. */
    static final class Response {
        int status = 200;
        String redirect;
        final Map<String, String> headers = new TreeMap<>();
        final StringWriter body = new StringWriter();
        final HttpServletResponse proxy;

        Response() {
            PrintWriter writer = new PrintWriter(body);
            proxy = (HttpServletResponse) Proxy.newProxyInstance(Servlets.class.getClassLoader(),
                    new Class<?>[] {HttpServletResponse.class}, (p, m, args) -> {
                        switch (m.getName()) {
                            case "sendRedirect" -> {
                                status = 302;
                                redirect = (String) args[0];
                            }
                            case "sendError", "setStatus" -> status = (Integer) args[0];
                            case "setContentType" -> headers.put("Content-Type", (String) args[0]);
                            case "setHeader" -> headers.put((String) args[0], (String) args[1]);
                            case "getWriter" -> {
                                return writer;
                            }
                            case "hashCode" -> {
                                return System.identityHashCode(p);
                            }
                            case "equals" -> {
                                return p == args[0];
                            }
                            default -> throw new UnsupportedOperationException("the test response has no " + m.getName());
                        }
                        return null;
                    });
        }

        String text() {
            return body.toString();
        }
    }

    /** A filter chain that keeps the request it was handed and reads its body, as the application would. */
    static final class Chain implements FilterChain {
        ServletRequest passed;
        byte[] bodySeen;

        @Override
        public void doFilter(ServletRequest request, javax.servlet.ServletResponse response) throws java.io.IOException {
            passed = request;
            bodySeen = request.getInputStream().readAllBytes();
        }
    }
}
