package org.usersync.confluence;

import com.atlassian.confluence.pages.AttachmentManager;
import com.atlassian.confluence.user.PersonalInformationManager;
import com.atlassian.confluence.user.UserAccessor;
import com.atlassian.confluence.user.UserDetailsManager;

/**
 * The Confluence components the directory writes through (injected by the plugin framework), and
 * the third-party profile stores found at run time (null when the app is not installed).
 */
public record ConfluenceServices(UserAccessor userAccessor, UserDetailsManager userDetailsManager,
        PersonalInformationManager personalInformationManager, AttachmentManager attachmentManager,
        ProfileStore communardo, ProfileStore linchpin) {}
