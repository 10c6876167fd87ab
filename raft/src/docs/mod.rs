//! How the consensus layer keeps its promises. Each page: the guarantee, then the mechanism.

pub mod durability {
    #![doc = include_str!("durability.md")]
}
pub mod writes {
    #![doc = include_str!("writes.md")]
}
pub mod reads {
    #![doc = include_str!("reads.md")]
}
pub mod bootstrap {
    #![doc = include_str!("bootstrap.md")]
}
