package org.usersync.jira;

import com.atlassian.jira.user.ApplicationUser;
import com.atlassian.servicedesk.api.organization.CreateOrganizationParameters;
import com.atlassian.servicedesk.api.organization.CustomerOrganization;
import com.atlassian.servicedesk.api.organization.OrganizationService;
import com.atlassian.servicedesk.api.organization.OrganizationsQuery;
import com.atlassian.servicedesk.api.organization.UsersInOrganizationQuery;
import com.atlassian.servicedesk.api.organization.UsersOrganizationUpdateParameters;
import com.atlassian.servicedesk.api.util.paging.PagedRequest;
import com.atlassian.servicedesk.api.util.paging.PagedResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Jira Service Management's organisations. Modelled rules (JSM 5.12 OrganizationService
 * Javadoc and the JSM REST documentation of the same resources):
 * <ul>
 * <li>pages hold at most 50 entries whatever the request asks (LimitedPagedRequest), and say
 *     whether another page follows;</li>
 * <li>an organisation's name is unique (JSM refuses a second one of the same name, whatever its
 *     case);</li>
 * <li>only an agent or administrator manages organisations: the executing user must be a Jira
 *     system administrator here;</li>
 * <li>adding a member twice or removing a non-member changes nothing.</li>
 * </ul>
 */
final class FakeServiceManagement implements OrganizationService {
    static final int MAX_PAGE = 50;

    private final FakeJira jira;
    private final Map<Integer, Org> orgs = new LinkedHashMap<>();
    int calls;

    FakeServiceManagement(FakeJira jira) {
        this.jira = jira;
    }

    private record Org(Integer getId, String getName, Set<String> members) implements CustomerOrganization {}

    private record Page<T>(List<T> getResults, boolean hasNextPage) implements PagedResponse<T> {}

    private static <T> Page<T> page(List<T> all, PagedRequest r) {
        int limit = Math.min(r.getLimit(), MAX_PAGE);
        int from = Math.min(r.getStart(), all.size());
        int to = Math.min(from + limit, all.size());
        return new Page<>(new ArrayList<>(all.subList(from, to)), to < all.size());
    }

    private void agent(ApplicationUser user) {
        calls++;
        if (user == null || !jira.getGroupNamesForUser(user).contains(FakeJira.SYSADMINS)) {
            throw new SecurityException("only agents and administrators manage organisations");
        }
    }

    synchronized Map<String, Set<String>> membersByOrganisation() {
        Map<String, Set<String>> out = new LinkedHashMap<>();
        for (Org o : orgs.values()) {
            Set<String> names = new TreeSet<>();
            o.members().forEach(k -> names.add(jira.getUserByKey(k).getUsername()));
            out.put(o.getName(), names);
        }
        return out;
    }

    @Override
    public synchronized CustomerOrganization createOrganization(ApplicationUser user, CreateOrganizationParameters p) {
        agent(user);
        for (Org o : orgs.values()) {
            if (o.getName().toLowerCase(Locale.ROOT).equals(p.name().toLowerCase(Locale.ROOT))) {
                throw new IllegalArgumentException("An organization with this name already exists.");
            }
        }
        Org o = new Org(orgs.size() + 1, p.name(), new TreeSet<>());
        orgs.put(o.getId(), o);
        return o;
    }

    @Override
    public synchronized PagedResponse<CustomerOrganization> getOrganizations(ApplicationUser user, OrganizationsQuery q) {
        agent(user);
        return page(new ArrayList<>(orgs.values()), q.pagedRequest());
    }

    @Override
    public synchronized PagedResponse<ApplicationUser> getUsersInOrganization(ApplicationUser user,
            UsersInOrganizationQuery q) {
        agent(user);
        List<ApplicationUser> members = new ArrayList<>();
        orgs.get(q.organization().getId()).members().forEach(k -> members.add(jira.getUserByKey(k)));
        return page(members, q.pagedRequest());
    }

    @Override
    public synchronized void addUsersToOrganization(ApplicationUser user, UsersOrganizationUpdateParameters p) {
        agent(user);
        p.users().forEach(u -> orgs.get(p.organization().getId()).members().add(u.getKey()));
    }

    @Override
    public synchronized void removeUsersFromOrganization(ApplicationUser user, UsersOrganizationUpdateParameters p) {
        agent(user);
        p.users().forEach(u -> orgs.get(p.organization().getId()).members().remove(u.getKey()));
    }

    @Override
    public CreateOrganizationParameters.Builder newCreateOrganizationBuilder() {
        return new CreateOrganizationParameters.Builder() {
            String name;

            public CreateOrganizationParameters.Builder name(String n) {
                name = n;
                return this;
            }

            public CreateOrganizationParameters build() {
                String n = name;
                return () -> n;
            }
        };
    }

    @Override
    public OrganizationsQuery.Builder newOrganizationsQueryBuilder() {
        return new OrganizationsQuery.Builder() {
            PagedRequest request;

            public OrganizationsQuery.Builder pagedRequest(PagedRequest r) {
                request = r;
                return this;
            }

            public OrganizationsQuery build() {
                PagedRequest r = request;
                return () -> r;
            }
        };
    }

    @Override
    public UsersInOrganizationQuery.Builder newUsersInOrganizationQuery() {
        return new UsersInOrganizationQuery.Builder() {
            CustomerOrganization org;
            PagedRequest request;

            public UsersInOrganizationQuery.Builder customerOrganization(CustomerOrganization o) {
                org = o;
                return this;
            }

            public UsersInOrganizationQuery.Builder pagedRequest(PagedRequest r) {
                request = r;
                return this;
            }

            public UsersInOrganizationQuery build() {
                CustomerOrganization o = org;
                PagedRequest r = request;
                return new UsersInOrganizationQuery() {
                    public CustomerOrganization organization() { return o; }

                    public PagedRequest pagedRequest() { return r; }
                };
            }
        };
    }

    @Override
    public UsersOrganizationUpdateParameters.Builder newUsersOrganizationUpdateParametersBuilder() {
        return new UsersOrganizationUpdateParameters.Builder() {
            CustomerOrganization org;
            Set<ApplicationUser> users;

            public UsersOrganizationUpdateParameters.Builder organization(CustomerOrganization o) {
                org = o;
                return this;
            }

            public UsersOrganizationUpdateParameters.Builder users(Set<ApplicationUser> u) {
                users = u;
                return this;
            }

            public UsersOrganizationUpdateParameters build() {
                CustomerOrganization o = org;
                Set<ApplicationUser> u = users;
                return new UsersOrganizationUpdateParameters() {
                    public CustomerOrganization organization() { return o; }

                    public Set<ApplicationUser> users() { return u; }
                };
            }
        };
    }
}
