//! Argon2 around a vector compression function, straight from RFC 9106: H0 (§3.2), the first
//! two blocks of each lane, the segments of every pass and slice with their reference-block
//! indexing (§3.4), and the tag from the XOR of the lanes' last blocks through H' (§3.3).
//!
//! The backends differ only in G: the fill is generic over [`Compress`], so each backend
//! (`avx2` on x86_64, `neon` on aarch64) gets its own monomorphised copy with its G called
//! directly, as when this loop knew only AVX2, and the fill rules are written once.

use argon2::{Algorithm, Block, Params, Version};
use blake2::digest::{Update, VariableOutput};
use blake2::{Blake2b512, Blake2bVar, Digest};

const WORDS: usize = 128;
const BLOCK_BYTES: usize = WORDS * 8;
/// Slices per pass: lanes synchronise at each slice boundary.
const SYNC_POINTS: usize = 4;

/// The compression function G (RFC 9106 §3.5) of one vector backend.
pub(crate) trait Compress {
    /// G(`x`, `y`) into `target`, or XORed into it with `xor` (version 1.3's later passes).
    ///
    /// # Safety
    /// The CPU must have the instructions the implementation uses: the caller holds the
    /// backend's `Backend::available`.
    unsafe fn compress(x: &Block, y: &Block, target: &mut Block, xor: bool);
}

/// One hash's inputs, already checked against the argon2 crate's limits by the caller.
pub(crate) struct Fill<'a> {
    pub algorithm: Algorithm,
    pub version: Version,
    pub params: &'a Params,
    pub secret: &'a [u8],
}

impl Fill<'_> {
    /// # Safety
    /// The CPU must have `G`'s instructions ([`Compress::compress`]).
    pub unsafe fn hash_into<G: Compress>(&self, password: &[u8], salt: &[u8], out: &mut [u8], memory: &mut [Block]) {
        let geometry = Geometry::of(self.params);
        let memory = &mut memory[..geometry.block_count()];
        let h0 = self.initial_hash(password, salt, out.len());
        first_blocks(&h0, memory, &geometry);
        for pass in 0..self.params.t_cost() as usize {
            for slice in 0..SYNC_POINTS {
                // Within a slice the lanes reference only finished slices of the others, so they
                // may be filled one after another.
                for lane in 0..geometry.lanes {
                    // SAFETY: the caller's promise, passed on.
                    unsafe { self.fill_segment::<G>(memory, &geometry, Position { pass, lane, slice }) };
                }
            }
        }
        let mut last = memory[geometry.lane_length - 1];
        for lane in 1..geometry.lanes {
            last ^= &memory[lane * geometry.lane_length + geometry.lane_length - 1];
        }
        variable_hash(&[&to_bytes(&last)], out);
    }

    /// H0: BLAKE2b-512 of the parameters and the length-prefixed inputs.
    fn initial_hash(&self, password: &[u8], salt: &[u8], tag_len: usize) -> [u8; 64] {
        let le32 = |n: usize| (n as u32).to_le_bytes();
        let mut h = Blake2b512::new();
        Digest::update(&mut h, self.params.p_cost().to_le_bytes());
        Digest::update(&mut h, le32(tag_len));
        Digest::update(&mut h, self.params.m_cost().to_le_bytes());
        Digest::update(&mut h, self.params.t_cost().to_le_bytes());
        Digest::update(&mut h, (self.version as u32).to_le_bytes());
        Digest::update(&mut h, (self.algorithm as u32).to_le_bytes());
        for input in [password, salt, self.secret, self.params.data()] {
            Digest::update(&mut h, le32(input.len()));
            Digest::update(&mut h, input);
        }
        h.finalize().into()
    }

    /// One segment: `segment_length` blocks of one lane in one slice of one pass.
    ///
    /// # Safety
    /// The CPU must have `G`'s instructions.
    unsafe fn fill_segment<G: Compress>(&self, memory: &mut [Block], geometry: &Geometry, at: Position) {
        let data_independent = match self.algorithm {
            Algorithm::Argon2i => true,
            Algorithm::Argon2id => at.pass == 0 && at.slice < SYNC_POINTS / 2,
            Algorithm::Argon2d => false,
        };
        // SAFETY (here and for `word` below): the caller's promise, passed on.
        let mut addresses = data_independent.then(|| unsafe { AddressStream::new::<G>(self, geometry, at) });
        let first = if at.pass == 0 && at.slice == 0 { 2 } else { 0 };
        let lane_start = at.lane * geometry.lane_length;
        // Version 1.0 overwrites; 1.3 XORs into the block from the previous pass.
        let xor = self.version == Version::V0x13 && at.pass > 0;
        for index in first..geometry.segment_length {
            let column = at.slice * geometry.segment_length + index;
            let current = lane_start + column;
            let previous = if column == 0 {
                lane_start + geometry.lane_length - 1
            } else {
                current - 1
            };
            let pseudo_random = match addresses.as_mut() {
                Some(stream) => unsafe { stream.word::<G>(index) },
                None => memory[previous].as_ref()[0],
            };
            // The high word picks the reference lane (the current one throughout the first slice
            // of the first pass), the low word the block in it.
            let reference_lane = if at.pass == 0 && at.slice == 0 {
                at.lane
            } else {
                (pseudo_random >> 32) as usize % geometry.lanes
            };
            let same_lane = reference_lane == at.lane;
            let reference = reference_lane * geometry.lane_length
                + reference_column(pseudo_random as u32, geometry, at, index, same_lane);
            let (earlier, rest) = memory.split_at_mut(current);
            let (target, later) = rest.split_first_mut().expect("current is in memory");
            let block_at = |i: usize| {
                if i < current {
                    &earlier[i]
                } else {
                    &later[i - current - 1]
                }
            };
            // SAFETY: the caller's promise, passed on.
            unsafe { G::compress(block_at(previous), block_at(reference), target, xor) };
        }
    }
}

/// B[i][0] and B[i][1] of every lane: H'(H0 ‖ LE32(column) ‖ LE32(lane)), 1 KiB each.
fn first_blocks(h0: &[u8; 64], memory: &mut [Block], geometry: &Geometry) {
    for lane in 0..geometry.lanes {
        for column in 0..2u32 {
            let mut bytes = [0u8; BLOCK_BYTES];
            variable_hash(&[h0, &column.to_le_bytes(), &(lane as u32).to_le_bytes()], &mut bytes);
            let block = &mut memory[lane * geometry.lane_length + column as usize];
            for (word, chunk) in block.as_mut().iter_mut().zip(bytes.chunks_exact(8)) {
                *word = u64::from_le_bytes(chunk.try_into().expect("8-byte chunk"));
            }
        }
    }
}

fn to_bytes(block: &Block) -> [u8; BLOCK_BYTES] {
    let mut bytes = [0u8; BLOCK_BYTES];
    for (chunk, word) in bytes.chunks_exact_mut(8).zip(block.as_ref()) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    bytes
}

/// The reference block's column in its lane (§3.4.1.2, "mapping J1 and J2 to a reference
/// block"), from the low word of the pseudo-random value, J1.
fn reference_column(j1: u32, geometry: &Geometry, at: Position, index: usize, same_lane: bool) -> usize {
    // The blocks that may be referenced: the finished slices (this pass's so far, or the three
    // before this one from the previous pass) and, in the same lane, this segment's blocks but the
    // one just computed; from another lane, a segment's first block may not take the last
    // finished one.
    let finished = if at.pass == 0 {
        at.slice * geometry.segment_length
    } else {
        geometry.lane_length - geometry.segment_length
    };
    let area = if same_lane {
        finished + index - 1
    } else if index == 0 {
        finished - 1
    } else {
        finished
    } as u64;
    let j1 = u64::from(j1);
    let x = (j1 * j1) >> 32;
    let relative = area - 1 - ((area * x) >> 32);
    let start = if at.pass == 0 || at.slice == SYNC_POINTS - 1 {
        0
    } else {
        (at.slice + 1) * geometry.segment_length
    };
    (start + relative as usize) % geometry.lane_length
}

/// The pseudo-random words of data-independent addressing: G(0, G(0, input block)), with the
/// input block's counter raised once per 128 words (§3.4.1.2).
struct AddressStream {
    input: Block,
    addresses: Block,
}

impl AddressStream {
    /// # Safety
    /// The CPU must have `G`'s instructions.
    unsafe fn new<G: Compress>(fill: &Fill<'_>, geometry: &Geometry, at: Position) -> Self {
        let mut input = Block::new();
        let words = input.as_mut();
        words[0] = at.pass as u64;
        words[1] = at.lane as u64;
        words[2] = at.slice as u64;
        words[3] = geometry.block_count() as u64;
        words[4] = u64::from(fill.params.t_cost());
        words[5] = fill.algorithm as u64;
        let mut stream = Self {
            input,
            addresses: Block::new(),
        };
        // The first segment starts at index 2, where no refill would happen: fill it now.
        if at.pass == 0 && at.slice == 0 {
            // SAFETY: the caller's promise, passed on.
            unsafe { stream.refill::<G>() };
        }
        stream
    }

    /// # Safety
    /// The CPU must have `G`'s instructions.
    unsafe fn refill<G: Compress>(&mut self) {
        self.input.as_mut()[6] += 1;
        let mut once = Block::new();
        // SAFETY: the caller's promise, passed on.
        unsafe {
            G::compress(&Block::new(), &self.input, &mut once, false);
            G::compress(&Block::new(), &once, &mut self.addresses, false);
        }
    }

    /// # Safety
    /// The CPU must have `G`'s instructions.
    unsafe fn word<G: Compress>(&mut self, index: usize) -> u64 {
        if index.is_multiple_of(WORDS) {
            // SAFETY: the caller's promise, passed on.
            unsafe { self.refill::<G>() };
        }
        self.addresses.as_ref()[index % WORDS]
    }
}

#[derive(Clone, Copy)]
struct Position {
    pass: usize,
    lane: usize,
    slice: usize,
}

/// The memory's shape: `m` rounded down to a multiple of 4 × lanes (the parameters already hold
/// m ≥ 8 × lanes).
pub(crate) struct Geometry {
    lanes: usize,
    segment_length: usize,
    lane_length: usize,
}

impl Geometry {
    pub fn of(params: &Params) -> Self {
        let lanes = params.p_cost() as usize;
        let segment_length = params.m_cost() as usize / (lanes * SYNC_POINTS);
        let geometry = Self {
            lanes,
            segment_length,
            lane_length: segment_length * SYNC_POINTS,
        };
        debug_assert_eq!(geometry.block_count(), params.block_count());
        geometry
    }

    pub fn block_count(&self) -> usize {
        self.lane_length * self.lanes
    }
}

/// H': BLAKE2b of LE32(T) ‖ input with a T-byte output, chained in 32-byte steps when T exceeds
/// 64 bytes. `parts` are concatenated to form the input.
fn variable_hash(parts: &[&[u8]], out: &mut [u8]) {
    let tag_len = (out.len() as u32).to_le_bytes();
    if out.len() <= 64 {
        let mut h = Blake2bVar::new(out.len()).expect("1 to 64 bytes");
        h.update(&tag_len);
        parts.iter().for_each(|p| h.update(p));
        h.finalize_variable(out).expect("the length asked for");
        return;
    }
    let mut v = {
        let mut h = Blake2b512::new();
        Digest::update(&mut h, tag_len);
        parts.iter().for_each(|p| Digest::update(&mut h, p));
        <[u8; 64]>::from(h.finalize())
    };
    // V1 … Vr contribute their first 32 bytes; V(r+1) = H^(T − 32r)(Vr) fills the rest.
    let mut written = 0;
    loop {
        out[written..written + 32].copy_from_slice(&v[..32]);
        written += 32;
        if out.len() - written <= 64 {
            break;
        }
        v = Blake2b512::digest(v).into();
    }
    let rest = &mut out[written..];
    let mut h = Blake2bVar::new(rest.len()).expect("33 to 64 bytes");
    h.update(&v);
    h.finalize_variable(rest).expect("the length asked for");
}
