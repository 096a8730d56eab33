package io.tfo4j.bench;

import io.tfo4j.FastOpenKey;
import io.tfo4j.FastOpenKeys;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * How the backends of one {@code bench fleet} run are keyed: which key file each backend follows at the start
 * (none: the backend's kernel makes its own random key), the key-file changes made while connections go on,
 * and whether servers and client skip cookies.
 */
enum FleetScenario {
    OWN_KEYS("own keys", "no key file: each backend's kernel made its own random key, as on any fleet today"),
    SHARED_KEY_FILE("shared key file", "every backend follows the same key file"),
    ROTATION("rotation in order", "each backend follows its own copy of the key file, changed one backend at a"
            + " time while connections go on: stage the new key as backup on every backend, then promote it on"
            + " every backend, then drop the old key on every backend (as `tfo4j keys rotate` steps)"),
    PROMOTED_EARLY("promoted before staged", "backend1 has the new key as primary (the old as backup) while the"
            + " others have only the old key: a rotation step skipped"),
    NO_COOKIE("no-cookie mode", "servers accept data without a cookie (`serve --no-cookie`) and the client sends"
            + " it without one (`get --no-cookie`); each backend its own key; the client starts with no cookie");

    /** A change of one backend's key file while connections go on. */
    record Step(int backend, FastOpenKeys keys, String label) {
    }

    private final String label;
    private final String setup;

    FleetScenario(String label, String setup) {
        this.label = label;
        this.setup = setup;
    }

    String label() {
        return label;
    }

    String setup() {
        return setup;
    }

    boolean noCookie() {
        return this == NO_COOKIE;
    }

    /** Each backend's keys at the start; null where the backend has no key file. */
    List<FastOpenKeys> initialKeys(int backends, FastOpenKey old, FastOpenKey fresh) {
        List<FastOpenKeys> keys = new ArrayList<>(Collections.nCopies(backends, (FastOpenKeys) null));
        switch (this) {
            case SHARED_KEY_FILE, ROTATION -> Collections.fill(keys, new FastOpenKeys(old, null));
            case PROMOTED_EARLY -> {
                Collections.fill(keys, new FastOpenKeys(old, null));
                keys.set(0, new FastOpenKeys(fresh, old));
            }
            case OWN_KEYS, NO_COOKIE -> {
            }
        }
        return keys;
    }

    /** The key-file changes, in order, spread evenly over the run's connections. */
    List<Step> steps(int backends, FastOpenKey old, FastOpenKey fresh) {
        if (this != ROTATION) {
            return List.of();
        }
        List<Step> steps = new ArrayList<>();
        for (int i = 0; i < backends; i++) {
            steps.add(new Step(i, new FastOpenKeys(old, fresh), "backend" + (i + 1) + " staged"));
        }
        for (int i = 0; i < backends; i++) {
            steps.add(new Step(i, new FastOpenKeys(fresh, old), "backend" + (i + 1) + " promoted"));
        }
        for (int i = 0; i < backends; i++) {
            steps.add(new Step(i, new FastOpenKeys(fresh, null), "backend" + (i + 1) + " dropped the old key"));
        }
        return steps;
    }
}
