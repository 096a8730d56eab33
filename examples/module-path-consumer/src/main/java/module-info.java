/** A program that uses tfo4j-core as a named module, the way a modular application would. */
module io.tfo4j.example.consumer {
    requires io.tfo4j.core;
}
