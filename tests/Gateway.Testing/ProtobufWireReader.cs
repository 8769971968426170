using System.Buffers.Binary;
using System.Text;

namespace Gateway.Testing;

/// <summary>
/// Reads protobuf's wire format field by field (varints, fixed 32/64-bit values, length-delimited bytes), enough to
/// decode what an OTLP exporter sends without a protobuf package. A malformed message throws <see cref="FormatException"/>.
/// </summary>
internal ref struct ProtobufWireReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    /// <summary>A reader at the start of <paramref name="data"/>, one whole message.</summary>
    public ProtobufWireReader(ReadOnlySpan<byte> data)
    {
        _data = data;
        _position = 0;
    }

    /// <summary>Reads the next field's number and wire type; false at the end of the message.</summary>
    public bool TryReadTag(out int field, out ProtobufWireType wireType)
    {
        if (_position >= _data.Length)
        {
            field = 0;
            wireType = default;
            return false;
        }

        var tag = ReadVarint();
        field = checked((int)(tag >> 3));
        wireType = (ProtobufWireType)(tag & 7);
        if (field == 0)
        {
            throw new FormatException($"field number 0 at byte {_position}");
        }

        return true;
    }

    /// <summary>A varint (int32, int64, uint, bool and enum fields).</summary>
    public ulong ReadVarint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            if (_position >= _data.Length)
            {
                throw new FormatException("a varint runs past the end of the message");
            }

            var b = _data[_position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }

        throw new FormatException("a varint longer than 10 bytes");
    }

    /// <summary>A little-endian 64-bit value (fixed64, sfixed64, double fields).</summary>
    public ulong ReadFixed64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    /// <summary>A little-endian 32-bit value (fixed32, sfixed32, float fields).</summary>
    public uint ReadFixed32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    /// <summary>The bytes of a length-delimited field: a string, bytes or an embedded message.</summary>
    public ReadOnlySpan<byte> ReadLengthDelimited()
    {
        var length = ReadVarint();
        return length > (ulong)(_data.Length - _position)
            ? throw new FormatException($"a field of {length} bytes runs past the end of the message")
            : Take((int)length);
    }

    /// <summary>A length-delimited field read as UTF-8 text.</summary>
    public string ReadString() => Encoding.UTF8.GetString(ReadLengthDelimited());

    /// <summary>Skips a field of <paramref name="wireType"/> this reader's caller does not need.</summary>
    public void Skip(ProtobufWireType wireType)
    {
        switch (wireType)
        {
            case ProtobufWireType.Varint:
                ReadVarint();
                break;
            case ProtobufWireType.Fixed64:
                Take(8);
                break;
            case ProtobufWireType.LengthDelimited:
                ReadLengthDelimited();
                break;
            case ProtobufWireType.Fixed32:
                Take(4);
                break;
            default:
                throw new FormatException($"wire type {(int)wireType} (groups are not used by OTLP)");
        }
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _data.Length - _position)
        {
            throw new FormatException($"{count} bytes wanted at byte {_position} of a {_data.Length}-byte message");
        }

        var taken = _data.Slice(_position, count);
        _position += count;
        return taken;
    }
}

/// <summary>How a protobuf field's value is laid out on the wire (the low three bits of its tag).</summary>
internal enum ProtobufWireType
{
    /// <summary>A varint.</summary>
    Varint = 0,

    /// <summary>Eight little-endian bytes.</summary>
    Fixed64 = 1,

    /// <summary>A varint length, then that many bytes.</summary>
    LengthDelimited = 2,

    /// <summary>Start of a group (proto2, unused by OTLP).</summary>
    StartGroup = 3,

    /// <summary>End of a group (proto2, unused by OTLP).</summary>
    EndGroup = 4,

    /// <summary>Four little-endian bytes.</summary>
    Fixed32 = 5,
}
