"""N-body: the outer planets orbiting the Sun, integrated with a fixed time step.

Units: astronomical units, years/(2*pi), solar masses (so G = 1 and a year is 2*pi).
The system's momentum is corrected so that its centre of mass stays still, then the
total energy is printed before and after the integration (it must barely drift).
"""

import sys

PI = 3.14159265358979323
SOLAR_MASS = 4 * PI * PI
DAYS_PER_YEAR = 365.24


class Body:
    __slots__ = ("name", "x", "y", "z", "vx", "vy", "vz", "mass")

    def __init__(self, name, position, velocity, mass):
        self.name = name
        self.x, self.y, self.z = position
        self.vx, self.vy, self.vz = (v * DAYS_PER_YEAR for v in velocity)
        self.mass = mass * SOLAR_MASS

    def kinetic_energy(self):
        return 0.5 * self.mass * (self.vx * self.vx + self.vy * self.vy + self.vz * self.vz)


def solar_system():
    return [
        Body("sun", (0.0, 0.0, 0.0), (0.0, 0.0, 0.0), 1.0),
        Body(
            "jupiter",
            (4.84143144246472090e00, -1.16032004402742839e00, -1.03622044471123109e-01),
            (1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05),
            9.54791938424326609e-04,
        ),
        Body(
            "saturn",
            (8.34336671824457987e00, 4.12479856412430479e00, -4.03523417114321381e-01),
            (-2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05),
            2.85885980666130812e-04,
        ),
        Body(
            "uranus",
            (1.28943695621391310e01, -1.51111514016986312e01, -2.23307578892655734e-01),
            (2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05),
            4.36624404335156298e-05,
        ),
        Body(
            "neptune",
            (1.53796971148509165e01, -2.59193146099879641e01, 1.79258772950371181e-01),
            (2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05),
            5.15138902046611451e-05,
        ),
    ]


def offset_momentum(bodies):
    px = sum(b.vx * b.mass for b in bodies)
    py = sum(b.vy * b.mass for b in bodies)
    pz = sum(b.vz * b.mass for b in bodies)
    sun = bodies[0]
    sun.vx = -px / SOLAR_MASS
    sun.vy = -py / SOLAR_MASS
    sun.vz = -pz / SOLAR_MASS


def pairs_of(bodies):
    """Every unordered pair of bodies, once."""
    return [(a, b) for i, a in enumerate(bodies) for b in bodies[i + 1:]]


def energy(bodies, pairs):
    e = sum(b.kinetic_energy() for b in bodies)
    for a, b in pairs:
        dx = a.x - b.x
        dy = a.y - b.y
        dz = a.z - b.z
        e -= (a.mass * b.mass) / ((dx * dx + dy * dy + dz * dz) ** 0.5)
    return e


def advance(bodies, pairs, dt, steps):
    for _ in range(steps):
        for a, b in pairs:
            dx = a.x - b.x
            dy = a.y - b.y
            dz = a.z - b.z
            dist2 = dx * dx + dy * dy + dz * dz
            mag = dt / (dist2 * dist2 ** 0.5)
            bm = b.mass * mag
            am = a.mass * mag
            a.vx -= dx * bm
            a.vy -= dy * bm
            a.vz -= dz * bm
            b.vx += dx * am
            b.vy += dy * am
            b.vz += dz * am
        for body in bodies:
            body.x += dt * body.vx
            body.y += dt * body.vy
            body.z += dt * body.vz


def main(steps):
    bodies = solar_system()
    pairs = pairs_of(bodies)
    offset_momentum(bodies)
    print(f"energy before: {energy(bodies, pairs):.9f}")
    advance(bodies, pairs, 0.01, steps)
    print(f"energy after:  {energy(bodies, pairs):.9f}")
    for body in bodies:
        print(f"{body.name:8s} x={body.x:+.6f} y={body.y:+.6f} z={body.z:+.6f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 150_000)
