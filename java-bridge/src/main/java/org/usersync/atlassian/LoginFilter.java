package org.usersync.atlassian;

import java.io.IOException;
import javax.servlet.Filter;
import javax.servlet.FilterChain;
import javax.servlet.FilterConfig;
import javax.servlet.ServletException;
import javax.servlet.ServletRequest;
import javax.servlet.ServletResponse;
import javax.servlet.http.HttpServletRequest;

/**
 * The login hook, a servlet filter at the {@code before-login} location (before the application
 * checks the credential): for a request that carries a login, the engine reactivates a user the
 * sync disabled who is active in the source, so the login that follows succeeds; a user an
 * administrator disabled stays disabled. The filter never refuses a request itself: the
 * application decides the login.
 */
public final class LoginFilter implements Filter {
    private final UsersyncApp app;

    public LoginFilter(UsersyncApp app) {
        this.app = app;
    }

    @Override
    public void init(FilterConfig config) {}

    @Override
    public void doFilter(ServletRequest req, ServletResponse res, FilterChain chain)
            throws IOException, ServletException {
        ServletRequest next = req;
        if (req instanceof HttpServletRequest http) {
            try {
                String username = LoginRequests.fromHeadersOrForm(http);
                if (username == null && LoginRequests.isRestSession(http)) {
                    ReplayedBodyRequest replayed = ReplayedBodyRequest.read(http, LoginRequests.MAX_BODY);
                    if (replayed != null) {
                        next = replayed;
                        username = LoginRequests.fromSessionBody(replayed.body());
                    }
                }
                if (username != null) {
                    app.beforeLogin(username, app.loginAttributes(http));
                }
            } catch (IOException | RuntimeException e) {
                // The hook is a help, never a gate: the application's login goes on.
            }
        }
        chain.doFilter(next, res);
    }

    @Override
    public void destroy() {}
}
