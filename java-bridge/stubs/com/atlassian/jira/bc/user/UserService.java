// Compile-only signature stub: never packaged, Jira provides the real type at run time.
// Written from the Jira 9.12 Java API reference, https://docs.atlassian.com/software/jira/docs/api/9.12.0/com/atlassian/jira/bc/user/UserService.html
// (only the members usersync calls; see java-bridge/stubs/README.md).
package com.atlassian.jira.bc.user;

import com.atlassian.jira.bc.ServiceResultImpl;
import com.atlassian.jira.exception.CreateException;
import com.atlassian.jira.exception.PermissionException;
import com.atlassian.jira.user.ApplicationUser;
import com.atlassian.jira.util.ErrorCollection;

public interface UserService {
    CreateUserValidationResult validateCreateUser(CreateUserRequest createUserRequest);

    ApplicationUser createUser(CreateUserValidationResult result) throws PermissionException, CreateException;

    UpdateUserValidationResult validateUpdateUser(ApplicationUser user);

    void updateUser(UpdateUserValidationResult updateUserValidationResult);

    DeleteUserValidationResult validateDeleteUser(ApplicationUser loggedInUser, ApplicationUser userForDelete);

    void removeUser(ApplicationUser loggedInUser, DeleteUserValidationResult result);

    /** A value class in Jira: what a new user is, where it goes and whether e-mail is sent. */
    final class CreateUserRequest {
        private final ApplicationUser loggedInUser;
        private final String username;
        private final String password;
        private final String emailAddress;
        private final String displayName;
        private Long directoryId;
        private boolean sendNotification;

        private CreateUserRequest(ApplicationUser loggedInUser, String username, String password, String emailAddress,
                String displayName) {
            this.loggedInUser = loggedInUser;
            this.username = username;
            this.password = password;
            this.emailAddress = emailAddress;
            this.displayName = displayName;
        }

        public static CreateUserRequest withUserDetails(ApplicationUser loggedInUser, String username,
                String password, String emailAddress, String displayName) {
            return new CreateUserRequest(loggedInUser, username, password, emailAddress, displayName);
        }

        public CreateUserRequest inDirectory(Long directoryId) {
            this.directoryId = directoryId;
            return this;
        }

        public CreateUserRequest sendNotification(boolean sendNotification) {
            this.sendNotification = sendNotification;
            return this;
        }

        public ApplicationUser getLoggedInUser() { return loggedInUser; }

        public String getUsername() { return username; }

        public String getPassword() { return password; }

        public String getEmailAddress() { return emailAddress; }

        public String getDisplayName() { return displayName; }

        public Long getDirectoryId() { return directoryId; }

        public boolean shouldSendNotification() { return sendNotification; }
    }

    class CreateUserValidationResult extends ServiceResultImpl {
        private final CreateUserRequest request;

        public CreateUserValidationResult(ErrorCollection errorCollection, CreateUserRequest request) {
            super(errorCollection);
            this.request = request;
        }

        public CreateUserRequest getCreateUserRequest() { return request; }
    }

    class UpdateUserValidationResult extends ServiceResultImpl {
        private final ApplicationUser user;

        public UpdateUserValidationResult(ErrorCollection errorCollection, ApplicationUser user) {
            super(errorCollection);
            this.user = user;
        }

        public ApplicationUser getApplicationUser() { return user; }
    }

    class DeleteUserValidationResult extends ServiceResultImpl {
        private final ApplicationUser user;

        public DeleteUserValidationResult(ErrorCollection errorCollection, ApplicationUser user) {
            super(errorCollection);
            this.user = user;
        }

        public ApplicationUser getApplicationUser() { return user; }
    }
}
