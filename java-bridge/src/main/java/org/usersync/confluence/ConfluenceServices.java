package org.usersync.confluence;

import com.atlassian.confluence.pages.AttachmentManager;
import com.atlassian.confluence.security.login.LoginManager;
import com.atlassian.confluence.user.PersonalInformationManager;
import com.atlassian.confluence.user.UserAccessor;
import com.atlassian.confluence.user.UserDetailsManager;

/**
 * The Confluence components the directory writes through (injected by the plugin framework), the
 * third-party profile stores found at run time (null when the app is not installed), and what the
 * idle-user cleanup reads: Confluence's login records and SAL's answer to "is this user an
 * administrator" (null when absent: the users then report no last login and no administrator,
 * and the cleanup leaves them alone).
 */
public record ConfluenceServices(UserAccessor userAccessor, UserDetailsManager userDetailsManager,
        PersonalInformationManager personalInformationManager, AttachmentManager attachmentManager,
        ProfileStore communardo, ProfileStore linchpin, LoginManager loginManager,
        com.atlassian.sal.api.user.UserManager salUsers) {
    /** Without login facts. */
    public ConfluenceServices(UserAccessor userAccessor, UserDetailsManager userDetailsManager,
            PersonalInformationManager personalInformationManager, AttachmentManager attachmentManager,
            ProfileStore communardo, ProfileStore linchpin) {
        this(userAccessor, userDetailsManager, personalInformationManager, attachmentManager, communardo, linchpin,
                null, null);
    }
}
