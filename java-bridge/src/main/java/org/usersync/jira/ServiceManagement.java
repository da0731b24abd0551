package org.usersync.jira;

import com.atlassian.jira.component.ComponentAccessor;
import com.atlassian.servicedesk.api.organization.OrganizationService;

/**
 * Finds Jira Service Management at run time: its {@code OrganizationService} is exported by the
 * Service Management app, which may not be installed. Without it (or with its classes missing)
 * there are no organisations, and a mapping to {@code jsm:organization} is a configuration error.
 */
final class ServiceManagement {
    private ServiceManagement() {}

    static Organizations organizations() {
        try {
            OrganizationService service = ComponentAccessor.getOSGiComponentInstanceOfType(OrganizationService.class);
            return service == null ? null : new JsmOrganizations(service);
        } catch (LinkageError | RuntimeException e) {
            return null;
        }
    }
}
