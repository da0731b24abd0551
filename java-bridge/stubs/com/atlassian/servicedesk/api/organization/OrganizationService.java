// Compile-only signature stub: never packaged, Jira Service Management provides the real type at run time.
// Written from the Jira Service Management 5.12 (with Jira 9.12) Java API reference, https://docs.atlassian.com/jira-servicedesk/5.12.17/com/atlassian/servicedesk/api/organization/OrganizationService.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.servicedesk.api.organization;

import com.atlassian.jira.user.ApplicationUser;
import com.atlassian.servicedesk.api.util.paging.PagedResponse;

public interface OrganizationService {
    CustomerOrganization createOrganization(ApplicationUser user, CreateOrganizationParameters parameters);

    PagedResponse<CustomerOrganization> getOrganizations(ApplicationUser user, OrganizationsQuery requestQuery);

    PagedResponse<ApplicationUser> getUsersInOrganization(ApplicationUser user, UsersInOrganizationQuery query);

    void addUsersToOrganization(ApplicationUser executingUser, UsersOrganizationUpdateParameters parameters);

    void removeUsersFromOrganization(ApplicationUser user, UsersOrganizationUpdateParameters parameters);

    CreateOrganizationParameters.Builder newCreateOrganizationBuilder();

    OrganizationsQuery.Builder newOrganizationsQueryBuilder();

    UsersInOrganizationQuery.Builder newUsersInOrganizationQuery();

    UsersOrganizationUpdateParameters.Builder newUsersOrganizationUpdateParametersBuilder();
}
