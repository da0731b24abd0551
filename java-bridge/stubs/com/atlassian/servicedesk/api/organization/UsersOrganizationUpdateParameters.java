// Compile-only signature stub: never packaged, Jira Service Management provides the real type at run time.
// Written from the Jira Service Management 5.12 (with Jira 9.12) Java API reference, https://docs.atlassian.com/jira-servicedesk/5.12.17/com/atlassian/servicedesk/api/organization/UsersOrganizationUpdateParameters.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.servicedesk.api.organization;

import com.atlassian.jira.user.ApplicationUser;
import java.util.Set;

public interface UsersOrganizationUpdateParameters {
    CustomerOrganization organization();

    Set<ApplicationUser> users();

    interface Builder {
        Builder organization(CustomerOrganization organization);

        Builder users(Set<ApplicationUser> users);

        UsersOrganizationUpdateParameters build();
    }
}
