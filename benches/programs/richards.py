"""Richards: Martin Richards' simulation of an operating system's task scheduler.

Six tasks (an idle task, a worker, two packet handlers and two devices) pass packets
to each other through a priority scheduler. Each task keeps its own two registers
between activations. For an idle count of 10,000 the original BCPL program queues
23,246 packets and holds a task 9,297 times; this run checks those figures on every
iteration.
"""

import sys

IDLE, WORKER, HANDLER_A, HANDLER_B, DEVICE_A, DEVICE_B = range(1, 7)

DEVICE_PACKET, WORK_PACKET = "device", "work"
BUFFER_SIZE = 4
ALPHABET = "0ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# A task's state is three bits: it has packets waiting, it waits for a packet, it is held.
HAS_PACKET = 1
WAITING = 2
HELD = 4

EXPECTED_QUEUED, EXPECTED_HELD = 23246, 9297


class Packet:
    __slots__ = ("link", "dest", "kind", "datum", "data")

    def __init__(self, link, dest, kind):
        self.link = link
        self.dest = dest
        self.kind = kind
        self.datum = 0
        self.data = [0] * BUFFER_SIZE

    def append_to(self, queue):
        """Put this packet at the end of `queue`; return the new head."""
        self.link = None
        if queue is None:
            return self
        last = queue
        while last.link is not None:
            last = last.link
        last.link = self
        return queue


class Task:
    def __init__(self, scheduler, ident, priority, queue, state):
        self.scheduler = scheduler
        self.ident = ident
        self.priority = priority
        self.queue = queue
        self.state = state
        self.next = scheduler.tasks
        scheduler.tasks = self
        scheduler.by_id[ident] = self

    def runnable(self):
        return self.state & (WAITING | HELD) == 0 or self.state == WAITING | HAS_PACKET

    def take_packet(self):
        packet = self.queue
        self.queue = packet.link
        self.state = HAS_PACKET if self.queue is not None else 0
        return packet

    def run(self, packet):
        raise NotImplementedError

    def add_packet(self, packet, current):
        """A packet arrives; return the task that runs next."""
        if self.queue is None:
            self.queue = packet
            self.state |= HAS_PACKET
            if self.priority > current.priority:
                return self
        else:
            self.queue = packet.append_to(self.queue)
        return current


class IdleTask(Task):
    def __init__(self, scheduler, count):
        super().__init__(scheduler, IDLE, 0, None, 0)
        self.seed = 1
        self.count = count

    def run(self, packet):
        sched = self.scheduler
        self.count -= 1
        if self.count == 0:
            return sched.hold_current()
        if self.seed & 1 == 0:
            self.seed >>= 1
            return sched.release(DEVICE_A)
        self.seed = (self.seed >> 1) ^ 0xD008
        return sched.release(DEVICE_B)


class WorkerTask(Task):
    def __init__(self, scheduler, queue):
        super().__init__(scheduler, WORKER, 1000, queue, WAITING | HAS_PACKET)
        self.destination = HANDLER_A
        self.letter = 0

    def run(self, packet):
        sched = self.scheduler
        if packet is None:
            return sched.wait_current()
        self.destination = HANDLER_A if self.destination == HANDLER_B else HANDLER_B
        packet.dest = self.destination
        packet.datum = 0
        for i in range(BUFFER_SIZE):
            self.letter = self.letter + 1 if self.letter < 26 else 1
            packet.data[i] = ALPHABET[self.letter]
        return sched.queue_packet(packet)


class HandlerTask(Task):
    def __init__(self, scheduler, ident, priority, queue):
        super().__init__(scheduler, ident, priority, queue, WAITING | HAS_PACKET)
        self.work = None
        self.devices = None

    def run(self, packet):
        sched = self.scheduler
        if packet is not None:
            if packet.kind == WORK_PACKET:
                self.work = packet.append_to(self.work)
            else:
                self.devices = packet.append_to(self.devices)
        work = self.work
        if work is not None:
            index = work.datum
            if index >= BUFFER_SIZE:
                self.work = work.link
                return sched.queue_packet(work)
            device = self.devices
            if device is not None:
                self.devices = device.link
                device.datum = work.data[index]
                work.datum = index + 1
                return sched.queue_packet(device)
        return sched.wait_current()


class DeviceTask(Task):
    def __init__(self, scheduler, ident, priority):
        super().__init__(scheduler, ident, priority, None, WAITING)
        self.pending = None
        self.output = []

    def run(self, packet):
        sched = self.scheduler
        if packet is None:
            pending = self.pending
            if pending is None:
                return sched.wait_current()
            self.pending = None
            return sched.queue_packet(pending)
        self.pending = packet
        self.output.append(packet.datum)
        return sched.hold_current()


class Scheduler:
    def __init__(self):
        self.tasks = None
        self.by_id = {}
        self.current = None
        self.queued = 0
        self.held = 0

    def hold_current(self):
        self.held += 1
        self.current.state |= HELD
        return self.current.next

    def wait_current(self):
        self.current.state |= WAITING
        return self.current

    def release(self, ident):
        task = self.by_id[ident]
        task.state &= ~HELD
        if task.priority > self.current.priority:
            return task
        return self.current

    def queue_packet(self, packet):
        task = self.by_id[packet.dest]
        self.queued += 1
        packet.link = None
        packet.dest = self.current.ident
        return task.add_packet(packet, self.current)

    def schedule(self):
        task = self.tasks
        while task is not None:
            if task.runnable():
                packet = task.take_packet() if task.state == WAITING | HAS_PACKET else None
                self.current = task
                task = task.run(packet)
            else:
                task = task.next


def simulate(idle_count):
    sched = Scheduler()
    IdleTask(sched, idle_count)
    work = Packet(None, 0, WORK_PACKET)
    work = Packet(work, 0, WORK_PACKET)
    WorkerTask(sched, work)
    for handler, device, priority in ((HANDLER_A, DEVICE_A, 2000), (HANDLER_B, DEVICE_B, 3000)):
        queue = None
        for _ in range(3):
            queue = Packet(queue, device, DEVICE_PACKET)
        HandlerTask(sched, handler, priority, queue)
    DeviceTask(sched, DEVICE_A, 4000)
    DeviceTask(sched, DEVICE_B, 5000)
    sched.schedule()
    return sched


def main(iterations):
    for i in range(iterations):
        sched = simulate(10_000)
        if (sched.queued, sched.held) != (EXPECTED_QUEUED, EXPECTED_HELD):
            raise SystemExit(f"iteration {i}: queued {sched.queued}, held {sched.held}: wrong")
    out_a = "".join(sched.by_id[DEVICE_A].output)
    out_b = "".join(sched.by_id[DEVICE_B].output)
    print(f"{iterations} iterations: queued={sched.queued} held={sched.held}")
    print(f"device A wrote {len(out_a)} chars, ends {out_a[-26:]}")
    print(f"device B wrote {len(out_b)} chars, ends {out_b[-26:]}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 15)
