package org.usersync.jira;

import com.atlassian.jira.user.ApplicationUser;
import com.atlassian.servicedesk.api.organization.CustomerOrganization;
import com.atlassian.servicedesk.api.organization.OrganizationService;
import com.atlassian.servicedesk.api.util.paging.PagedResponse;
import com.atlassian.servicedesk.api.util.paging.SimplePagedRequest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * {@link Organizations} over Jira Service Management's {@code OrganizationService}. The JSM API
 * answers "who is in this organisation", not "which organisations is this user in": a user's
 * organisations come from reading every organisation's members, a page of 50 at a time. This
 * class is loaded only when Service Management is present (see {@code JiraApp}).
 */
public final class JsmOrganizations implements Organizations {
    /** JSM's pages hold at most 50 entries. */
    static final int PAGE = 50;
    private final OrganizationService service;

    public JsmOrganizations(OrganizationService service) {
        this.service = service;
    }

    private static <T> List<T> all(Function<SimplePagedRequest, PagedResponse<T>> page) {
        List<T> out = new ArrayList<>();
        for (int start = 0;; start += PAGE) {
            PagedResponse<T> p = page.apply(new SimplePagedRequest(start, PAGE));
            out.addAll(p.getResults());
            if (!p.hasNextPage() || p.getResults().isEmpty()) {
                return out;
            }
        }
    }

    private List<CustomerOrganization> organizations(ApplicationUser acting) {
        return all(r -> service.getOrganizations(acting, service.newOrganizationsQueryBuilder().pagedRequest(r).build()));
    }

    private List<ApplicationUser> members(ApplicationUser acting, CustomerOrganization org) {
        return all(r -> service.getUsersInOrganization(acting,
                service.newUsersInOrganizationQuery().customerOrganization(org).pagedRequest(r).build()));
    }

    @Override
    public Map<String, SortedSet<String>> byUserKey(ApplicationUser acting) {
        Map<String, SortedSet<String>> out = new TreeMap<>();
        for (CustomerOrganization org : organizations(acting)) {
            for (ApplicationUser u : members(acting, org)) {
                out.computeIfAbsent(u.getKey(), k -> new TreeSet<>(String.CASE_INSENSITIVE_ORDER)).add(org.getName());
            }
        }
        return out;
    }

    @Override
    public void set(ApplicationUser acting, ApplicationUser user, SortedSet<String> names) {
        Map<String, CustomerOrganization> byName = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        for (CustomerOrganization org : organizations(acting)) {
            byName.put(org.getName(), org);
        }
        for (CustomerOrganization org : byName.values()) {
            boolean member = members(acting, org).stream().anyMatch(u -> u.getKey().equals(user.getKey()));
            if (member && !names.contains(org.getName())) {
                service.removeUsersFromOrganization(acting, service.newUsersOrganizationUpdateParametersBuilder()
                        .organization(org).users(Set.of(user)).build());
            }
            if (!member && names.contains(org.getName())) {
                add(acting, org, user);
            }
        }
        for (String name : names) {
            if (!byName.containsKey(name)) {
                add(acting, service.createOrganization(acting, service.newCreateOrganizationBuilder().name(name).build()),
                        user);
            }
        }
    }

    private void add(ApplicationUser acting, CustomerOrganization org, ApplicationUser user) {
        service.addUsersToOrganization(acting, service.newUsersOrganizationUpdateParametersBuilder()
                .organization(org).users(Set.of(user)).build());
    }
}
