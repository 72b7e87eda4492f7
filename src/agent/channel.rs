//! The agent's end of the control channel, and the sync markers it writes into the terminal.

use std::fs::File;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::mpsc::{self, Receiver};

use pyo3::Python;

use crate::protocol::{self, AgentMessage, ChannelError, Request};

pub struct Channel {
    stream: UnixStream,
    /// Requests read by the reader thread (see [`Channel::start_reader`]).
    requests: Option<Receiver<Request>>,
    /// A private duplicate of the program's terminal, for sync markers: it stays valid even if
    /// the program closes or redirects its own stdout.
    sync: Option<File>,
    counter: u64,
}

impl Channel {
    pub fn new(stream: UnixStream, sync: Option<File>) -> Self {
        Channel {
            stream,
            requests: None,
            sync,
            counter: 0,
        }
    }

    /// Reads requests on a thread of their own from now on, so that an interrupt can arrive
    /// while the program runs. `on_interrupt` is called on that thread.
    pub fn start_reader(&mut self, on_interrupt: fn()) -> std::io::Result<()> {
        let mut reader = self.stream.try_clone()?;
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("sleepy-requests".into())
            .spawn(move || {
                while let Ok(Some(request)) = protocol::receive::<_, Request>(&mut reader) {
                    if let Request::Interrupt = request {
                        on_interrupt();
                    } else if tx.send(request).is_err() {
                        return;
                    }
                }
            })?;
        self.requests = Some(rx);
        Ok(())
    }

    /// Marks the current point of the program's output; returns the marker's number, or 0 when
    /// nobody reads the terminal.
    pub fn mark(&mut self) -> u64 {
        let Some(sync) = self.sync.as_mut() else {
            return 0;
        };
        self.counter += 1;
        // A failed write only means the front end will wait for the marker a little and then
        // go on; the program must not be disturbed for it.
        let _ = sync.write_all(&protocol::sync_marker(self.counter));
        self.counter
    }

    pub fn send(&mut self, msg: &AgentMessage) -> Result<(), ChannelError> {
        protocol::send(&mut self.stream, msg)
    }

    /// Waits for the next request with the GIL released, so the program's other threads run.
    /// `None` when the front end has gone away.
    pub fn receive(&mut self, py: Python<'_>) -> Option<Request> {
        match self.requests.as_mut() {
            Some(rx) => py.detach(move || rx.recv().ok()),
            None => {
                let stream = &mut self.stream;
                py.detach(move || protocol::receive::<_, Request>(stream).ok().flatten())
            }
        }
    }

    /// The first message, before Python exists.
    pub fn receive_blocking(&mut self) -> Result<Option<Request>, ChannelError> {
        protocol::receive(&mut self.stream)
    }

    pub fn set_sync(&mut self, sync: Option<File>) {
        self.sync = sync;
    }
}
