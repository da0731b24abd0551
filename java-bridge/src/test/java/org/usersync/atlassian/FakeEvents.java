package org.usersync.atlassian;

import com.atlassian.event.api.EventListener;
import com.atlassian.event.api.EventPublisher;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Atlassian Event's publisher. Modelled rules (atlassian-event 4.1, EventPublisher): a listener's
 * public methods annotated {@code @EventListener} with one parameter receive the published events
 * assignable to that parameter; unregistered listeners receive nothing.
 */
public final class FakeEvents implements EventPublisher {
    private final List<Object> listeners = new CopyOnWriteArrayList<>();

    public int listenerCount() {
        return listeners.size();
    }

    @Override
    public void publish(Object event) {
        for (Object l : listeners) {
            for (Method m : l.getClass().getMethods()) {
                if (m.isAnnotationPresent(EventListener.class) && m.getParameterCount() == 1
                        && m.getParameterTypes()[0].isInstance(event)) {
                    try {
                        m.invoke(l, event);
                    } catch (IllegalAccessException | InvocationTargetException e) {
                        throw new IllegalStateException("listener failed", e);
                    }
                }
            }
        }
    }

    @Override
    public void register(Object listener) {
        listeners.add(listener);
    }

    @Override
    public void unregister(Object listener) {
        listeners.remove(listener);
    }
}
